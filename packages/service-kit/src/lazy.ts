/**
 * A module (or anything else) made at its first use and shared by every later
 * one. Dependencies that only a few routes need (passkeys, mail, QR codes,
 * the tracing SDK when tracing is on) are imported through it, so a process
 * that never serves those routes never holds their code (ADR 0020, "Memory").
 * Concurrent first calls share one load; a load that fails is tried again at
 * the next call rather than remembered as failed.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
