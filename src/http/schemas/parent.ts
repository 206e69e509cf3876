// Parents (R1): request bodies, the list query and the object returned, with its totals (R2).
import { Type } from 'typebox';
import { Id, ListQuery, Metadata, MetadataUpdate, Nullable } from './common.js';
import { TotalsSchema } from './totals.js';

const ParentType = Type.String({
  minLength: 1,
  maxLength: 40,
  description:
    'What kind of record it is: a lower-case word (letters, digits and underscores, starting with a letter, at most 40), e.g. opportunity or subscription.',
});
const ExternalId = Type.String({
  minLength: 1,
  maxLength: 200,
  description: "The record's id in the system it comes from, unique per type (1 to 200 characters).",
});
const Name = Type.String({ minLength: 1, maxLength: 200, description: 'A name, 1 to 200 characters.' });

export const ParentSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('parent'),
    type: Type.String(),
    external_id: Nullable(Type.String()),
    name: Nullable(Type.String()),
    account_id: Nullable(Type.String()),
    contact_id: Nullable(Type.String()),
    metadata: Metadata,
    totals: TotalsSchema,
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Parent' },
);

export const CreateParentBody = Type.Object(
  {
    type: ParentType,
    external_id: Type.Optional(Nullable(ExternalId)),
    name: Type.Optional(Nullable(Name)),
    account_id: Type.Optional(Nullable(Id('acc'))),
    contact_id: Type.Optional(Nullable(Id('con'))),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const UpdateParentBody = Type.Object(
  {
    external_id: Type.Optional(Nullable(ExternalId)),
    name: Type.Optional(Nullable(Name)),
    account_id: Type.Optional(Nullable(Id('acc'))),
    contact_id: Type.Optional(Nullable(Id('con'))),
    metadata: Type.Optional(MetadataUpdate),
  },
  { additionalProperties: false },
);

export const ListParentsQuery = Type.Object(
  {
    type: Type.Optional(Type.String({ maxLength: 40, description: 'Only parents of this type.' })),
    external_id: Type.Optional(
      Type.String({ maxLength: 200, description: 'Only the parent with this external_id (with type: at most one).' }),
    ),
    account_id: Type.Optional(Type.String({ maxLength: 64, description: 'Only parents of this account.' })),
    ...ListQuery,
  },
  { additionalProperties: false },
);
