/** A JSON column (a raw Stripe object, a webhook payload) as indented JSON rather than flattened fields. */
import { Box, Label } from '@adminjs/design-system';
import { type BasePropertyProps, flat } from 'adminjs';
import React from 'react';

const Json: React.FC<BasePropertyProps> = ({ property, record }) => {
  const value = flat.get(record?.params ?? {}, property.path);
  return (
    <Box mb="xl">
      <Label>{property.label}</Label>
      <pre
        data-testid={`json-${property.path}`}
        style={{
          fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace',
          fontSize: 12,
          lineHeight: 1.4,
          background: '#f6f7f9',
          padding: 12,
          borderRadius: 4,
          overflowX: 'auto',
          whiteSpace: 'pre',
        }}
      >
        {JSON.stringify(value, null, 2)}
      </pre>
    </Box>
  );
};

export default Json;
