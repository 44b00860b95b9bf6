/** An amount in the currency's smallest unit (Stripe's convention), shown as money: 499 usd -> $4.99. */
import { Box, Label, Text } from '@adminjs/design-system';
import type { BasePropertyProps } from 'adminjs';
import React from 'react';

export function formatMoney(amount: unknown, currency: unknown): string {
  if (amount === null || amount === undefined || amount === '') return '';
  const code = typeof currency === 'string' && currency ? currency.toUpperCase() : 'USD';
  const formatter = new Intl.NumberFormat('en', { style: 'currency', currency: code });
  // Zero-decimal currencies (JPY) have no minor unit: Stripe's amount is the whole amount.
  const digits = formatter.resolvedOptions().maximumFractionDigits ?? 2;
  return formatter.format(Number(amount) / 10 ** digits);
}

const Money: React.FC<BasePropertyProps> = ({ property, record, where }) => {
  const text = formatMoney(record?.params[property.path], record?.params.currency);
  if (where === 'show') {
    return (
      <Box mb="xl">
        <Label>{property.label}</Label>
        <Text>{text}</Text>
      </Box>
    );
  }
  return <span style={{ whiteSpace: 'nowrap' }}>{text}</span>;
};

export default Money;
