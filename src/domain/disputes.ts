// Dispute statuses (M7), as Stripe names them (stripe-node 23.1.0 Disputes.d.ts `Dispute.Status`; docs/STRIPE.md,
// "Disputes"), and which of them are open, a warning (an inquiry) or closed. Pure: no I/O imports.
export const DISPUTE_STATUSES = [
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'appeal_needs_response',
  'appeal_under_review',
  'won',
  'lost',
  'prevented',
] as const;

export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

/** Funds are held and a response may be due. */
export const OPEN_DISPUTE_STATUSES: ReadonlySet<DisputeStatus> = new Set([
  'needs_response',
  'under_review',
  'appeal_needs_response',
  'appeal_under_review',
]);
/** An inquiry: no funds withdrawn (yet). */
export const WARNING_DISPUTE_STATUSES: ReadonlySet<DisputeStatus> = new Set([
  'warning_needs_response',
  'warning_under_review',
]);

export const isDisputeClosed = (status: DisputeStatus): boolean =>
  !OPEN_DISPUTE_STATUSES.has(status) && !WARNING_DISPUTE_STATUSES.has(status);
