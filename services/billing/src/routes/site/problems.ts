/**
 * /problems and /problems/{code}: what each problem `type` points at. One
 * page per code of the catalogue (@tollgate/service-kit's PROBLEM_CATALOGUE,
 * which auth's, billing's and the gateway's codes are tested against).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PROBLEM_CATALOGUE, problemDoc, problemType } from '@tollgate/service-kit';
import { html, page } from './layout.js';

const Html = Type.String({ description: 'An HTML page' });

/** `code` spans as they appear in the help texts. */
const withCode = (text: string) => html(text).replace(/`([^`]+)`/g, '<code>$1</code>');

export const problemPages: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/problems',
    {
      schema: {
        tags: ['pages'],
        summary: 'Every error code tollgate answers with',
        produces: ['text/html'],
        response: { 200: Html },
      },
    },
    async (_request, reply) => {
      const rows = PROBLEM_CATALOGUE.map(
        (d) =>
          `<tr><td><a href="${problemType(d.code)}"><code>${html(d.code)}</code></a></td><td>${d.status}</td><td>${html(d.title)}</td><td>${html(d.from)}</td></tr>`,
      ).join('');
      reply.type('text/html; charset=utf-8');
      return page({
        title: 'Error codes',
        main: `<h1>Error codes</h1><p>Every error is an RFC 9457 problem (<code>application/problem+json</code>) with a stable
<code>code</code>; its <code>type</code> is the page below that explains it.</p>
<table><thead><tr><th>code</th><th>status</th><th>title</th><th>from</th></tr></thead><tbody>${rows}</tbody></table>`,
      });
    },
  );

  app.get(
    '/problems/:code',
    {
      schema: {
        tags: ['pages'],
        summary: 'What one error code means and what to do',
        params: Type.Object({ code: Type.String({ maxLength: 64 }) }),
        produces: ['text/html'],
        response: { 200: Html, 404: Html },
      },
    },
    async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      const doc = problemDoc(request.params.code);
      if (!doc) {
        return reply.code(404).send(
          page({
            title: 'Unknown error code',
            narrow: true,
            main: `<h1>No error code “${html(request.params.code)}”</h1><p><a href="/problems">Every error code</a> is listed here.</p>`,
          }),
        );
      }
      return page({
        title: doc.code,
        narrow: true,
        main: `<p class="muted"><a href="/problems">Error codes</a></p>
<h1>${html(doc.title)}</h1>
<div class="box"><dl><dt>code</dt><dd><code>${html(doc.code)}</code></dd><dt>HTTP status</dt><dd>${doc.status}</dd><dt>answered by</dt><dd>${html(doc.from)}</dd></dl></div>
<h2>What to do</h2><p>${withCode(doc.help)}</p>
<p class="muted">The problem's <code>detail</code> says what was wrong with this request; quote its <code>requestId</code> when you report one.</p>`,
      });
    },
  );
};
