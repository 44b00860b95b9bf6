/**
 * The AdminJS dashboard: active subscriptions, MRR, and new vs churned
 * subscriptions per day over 30 days as an SVG bar chart (drawn here rather
 * than with a chart library so AdminJS's bundler has nothing large to pack).
 */
import { Box, H2, H5, Text } from '@adminjs/design-system';
import { ApiClient } from 'adminjs';
import React, { useEffect, useState } from 'react';

interface Stats {
  activeSubscriptions: number;
  mrr: { currency: string; amount: number }[];
  daily: { date: string; new: number; churned: number }[];
}

const api = new ApiClient();

function money(amount: number, currency: string): string {
  return new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).format(
    amount / 100,
  );
}

function Chart({ daily }: { daily: Stats['daily'] }) {
  const width = 720;
  const height = 220;
  const pad = 28;
  const max = Math.max(1, ...daily.map((d) => Math.max(d.new, d.churned)));
  const slot = (width - pad * 2) / Math.max(1, daily.length);
  const bar = Math.max(2, slot / 2 - 2);
  const y = (v: number) => height - pad - (v / max) * (height - pad * 2);
  return (
    <svg
      data-testid="subscriptions-chart"
      width={width}
      height={height}
      role="img"
      aria-label="New and churned subscriptions per day"
    >
      <line x1={pad} y1={height - pad} x2={width - pad} y2={height - pad} stroke="#999" />
      <text x={4} y={pad} fontSize="10">
        {max}
      </text>
      <text x={4} y={height - pad} fontSize="10">
        0
      </text>
      {daily.map((d, i) => {
        const x = pad + i * slot;
        return (
          <g key={d.date}>
            <title>{`${d.date}: ${d.new} new, ${d.churned} churned`}</title>
            <rect x={x} y={y(d.new)} width={bar} height={height - pad - y(d.new)} fill="#3040d6" />
            <rect
              x={x + bar + 1}
              y={y(d.churned)}
              width={bar}
              height={height - pad - y(d.churned)}
              fill="#e05050"
            />
            {i % 5 === 0 ? (
              <text x={x} y={height - 8} fontSize="9">
                {d.date.slice(5)}
              </text>
            ) : null}
          </g>
        );
      })}
      <rect x={width - 170} y={6} width={10} height={10} fill="#3040d6" />
      <text x={width - 155} y={15} fontSize="11">
        new
      </text>
      <rect x={width - 110} y={6} width={10} height={10} fill="#e05050" />
      <text x={width - 95} y={15} fontSize="11">
        churned
      </text>
    </svg>
  );
}

const Dashboard = () => {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .getDashboard()
      .then((response) => setStats(response.data as Stats))
      .catch((e: Error) => setError(e.message));
  }, []);
  if (error) return <Text>Could not load the figures: {error}</Text>;
  if (!stats) return <Text>Loading…</Text>;
  return (
    <Box variant="grey">
      <Box variant="white" mb="xl" data-testid="dashboard">
        <H2>Billing</H2>
        <Box flex flexDirection="row">
          <Box mr="xxl">
            <H5>Active subscriptions</H5>
            <Text data-testid="active-subscriptions" fontSize="xl">
              {stats.activeSubscriptions}
            </Text>
          </Box>
          <Box>
            <H5>MRR</H5>
            <Text data-testid="mrr" fontSize="xl">
              {stats.mrr.length === 0 ? '—' : stats.mrr.map((m) => money(m.amount, m.currency)).join(' + ')}
            </Text>
          </Box>
        </Box>
      </Box>
      <Box variant="white">
        <H5>New vs churned subscriptions, last 30 days</H5>
        <Chart daily={stats.daily} />
      </Box>
    </Box>
  );
};

export default Dashboard;
