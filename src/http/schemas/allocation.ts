// Allocations (R4): the shapes of /v1/allocations.
import { Type } from 'typebox';
import { Amount, Id, ListQuery } from './common.js';

export const AllocationSchema = Type.Object(
  {
    id: Type.String({ description: 'alc_...' }),
    object: Type.Literal('allocation'),
    transaction_id: Type.String(),
    invoice_id: Type.String(),
    kind: Type.String({ description: 'payment, refund, write_off or write_off_reversal (by the transaction).' }),
    amount: Type.Integer({ description: "The transaction's money assigned to the invoice." }),
    applied_amount: Type.Integer({
      description:
        'What of amount counts in the invoice now: the transaction captured (or completed) fills its allocations oldest first.',
    }),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Allocation' },
);

export const CreateAllocationBody = Type.Object(
  {
    transaction_id: Id('trx'),
    invoice_id: Id('inv'),
    amount: Amount('Positive; the allocations of a transaction add up to at most its amount.'),
  },
  { additionalProperties: false },
);

export const UpdateAllocationBody = Type.Object(
  { amount: Amount('The new amount, positive.') },
  { additionalProperties: false },
);

export const ListAllocationsQuery = Type.Object(
  {
    ...ListQuery,
    transaction_id: Type.Optional(Type.String({ maxLength: 64 })),
    invoice_id: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
