/**
 * The tables of the sandbox's data, run at every open (idempotent). Every row carries its
 * tenant: queries always filter on it first, so tenants never see each other's data.
 *
 * Documents keep the client's fragments in `body` (JSONB); the fields the platform queries
 * by are columns with indexes. `fragments` lists a document's top-level fragment names (and
 * for measurements also `fragment.series`), so `fragmentType`, `has()`,
 * `valueFragmentType` and `valueFragmentSeries` are GIN index look-ups.
 *
 * Ids come from one sequence, like the platform's global ids. It starts far above the ids
 * state.json hands out (applications, versions, status objects), so a managed object id
 * never collides with a microservice's status object.
 */
export const SCHEMA = `
create sequence if not exists object_ids start 10000000;

create table if not exists managed_objects (
  tenant text not null,
  id bigint primary key,
  type text,
  name text,
  owner text not null,
  creation_time timestamptz not null,
  last_updated timestamptz not null,
  fragments text[] not null,
  body jsonb not null
);
create index if not exists managed_objects_type on managed_objects (tenant, type);
create index if not exists managed_objects_owner on managed_objects (tenant, owner);
create index if not exists managed_objects_fragments on managed_objects using gin (fragments);

create table if not exists mo_references (
  tenant text not null,
  parent bigint not null references managed_objects (id) on delete cascade,
  kind text not null,
  child bigint not null references managed_objects (id) on delete cascade,
  position bigserial,
  primary key (parent, kind, child)
);
create index if not exists mo_references_child on mo_references (child, kind);

create table if not exists external_ids (
  tenant text not null,
  type text not null,
  value text not null,
  mo bigint not null references managed_objects (id) on delete cascade,
  primary key (tenant, type, value)
);
create index if not exists external_ids_mo on external_ids (mo);

create table if not exists measurements (
  tenant text not null,
  id bigint primary key,
  source bigint not null,
  type text not null,
  time timestamptz not null,
  creation_time timestamptz not null,
  fragments text[] not null,
  body jsonb not null
);
create index if not exists measurements_source_time on measurements (tenant, source, time);
create index if not exists measurements_time on measurements (tenant, time);
create index if not exists measurements_fragments on measurements using gin (fragments);

create table if not exists events (
  tenant text not null,
  id bigint primary key,
  source bigint not null,
  type text not null,
  time timestamptz not null,
  creation_time timestamptz not null,
  last_updated timestamptz not null,
  fragments text[] not null,
  body jsonb not null,
  attachment jsonb
);
create index if not exists events_source_time on events (tenant, source, time);
create index if not exists events_time on events (tenant, time);
create index if not exists events_fragments on events using gin (fragments);

create table if not exists alarms (
  tenant text not null,
  id bigint primary key,
  source bigint not null,
  type text not null,
  status text not null,
  severity text not null,
  time timestamptz not null,
  first_occurrence_time timestamptz not null,
  creation_time timestamptz not null,
  last_updated timestamptz not null,
  count integer not null,
  fragments text[] not null,
  body jsonb not null
);
create index if not exists alarms_source_type on alarms (tenant, source, type, status);
create index if not exists alarms_time on alarms (tenant, time);

create table if not exists operations (
  tenant text not null,
  id bigint primary key,
  device bigint not null,
  status text not null,
  creation_time timestamptz not null,
  fragments text[] not null,
  body jsonb not null
);
create index if not exists operations_device on operations (tenant, device, status);
create index if not exists operations_creation on operations (tenant, creation_time);

create table if not exists tenant_options (
  tenant text not null,
  category text not null,
  key text not null,
  value text not null,
  primary key (tenant, category, key)
);

create table if not exists n2_subscriptions (
  tenant text not null,
  id bigint primary key,
  name text not null,
  context text not null,
  source bigint,
  apis text[] not null,
  type_filter text,
  fragments_to_copy text[],
  non_persistent boolean not null,
  creation_time timestamptz not null
);
create index if not exists n2_subscriptions_name on n2_subscriptions (tenant, name);

create table if not exists n2_subscribers (
  tenant text not null,
  subscription text not null,
  subscriber text not null,
  primary key (tenant, subscription, subscriber)
);

create table if not exists n2_messages (
  ack bigserial primary key,
  tenant text not null,
  subscription text not null,
  subscriber text not null,
  message text not null
);
create index if not exists n2_messages_queue on n2_messages (tenant, subscription, subscriber, ack);
`;
