/**
 * The page of every state-changing record action (cancel, refund, resync,
 * replay, retry): it asks, and on "confirm" POSTs the action with the
 * session's CSRF token. AdminJS's own button would call the action with a
 * GET, which a link on any other site could do as well; the server now acts
 * only on this POST.
 */
import { Box, Button, H4, Text } from '@adminjs/design-system';
import {
  type ActionProps,
  ApiClient,
  useCurrentAdmin,
  useNotice,
  useTranslation,
  ViewHelpers,
} from 'adminjs';
import React, { useState } from 'react';
import { useNavigate } from 'react-router';

const api = new ApiClient();
const h = new ViewHelpers();

const ConfirmAction: React.FC<ActionProps> = ({ action, record, resource }) => {
  const [currentAdmin] = useCurrentAdmin();
  const addNotice = useNotice();
  const navigate = useNavigate();
  const { translateAction } = useTranslation();
  const [busy, setBusy] = useState(false);
  if (!record) return null;
  const label = translateAction(action.label, resource.id);
  const question = (action.custom as { question?: string } | undefined)?.question ?? `${label}?`;
  const showUrl = h.recordActionUrl({ resourceId: resource.id, recordId: record.id, actionName: 'show' });

  const confirm = async () => {
    setBusy(true);
    try {
      const response = await api.recordAction({
        resourceId: resource.id,
        recordId: record.id,
        actionName: action.name,
        data: {},
        headers: { 'x-csrf-token': String((currentAdmin as { csrfToken?: string } | null)?.csrfToken ?? '') },
      });
      if (response.data.notice) addNotice(response.data.notice);
      navigate(showUrl);
    } catch (error) {
      addNotice({ message: `${label} failed: ${(error as Error).message}`, type: 'error' });
      setBusy(false);
    }
  };

  return (
    <Box variant="container" data-testid="confirm-action">
      <H4>{question}</H4>
      <Text mb="xl">
        {resource.name} {record.id}
      </Text>
      <Button variant="danger" onClick={confirm} disabled={busy} mr="default">
        {label}
      </Button>
      <Button variant="text" onClick={() => navigate(showUrl)} disabled={busy}>
        Back
      </Button>
    </Box>
  );
};

export default ConfirmAction;
