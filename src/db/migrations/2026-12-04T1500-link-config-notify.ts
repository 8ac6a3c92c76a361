import { sql, type Kysely } from 'kysely'

// Each process caches the link visit's configuration (src/checkout-links/visit-cache.ts); every write to a
// table that the visit's read (`findLinkForVisit`) draws on sends `pg_notify('kassa_link_config', <organization
// id>)`, so every process forgets that organization's links (`'*'`, forget everything, when the organization
// cannot be found, or on TRUNCATE). NOTIFY is transactional: it is delivered on commit, never for a rollback,
// and the same payload sent many times in one transaction is delivered once, so a row trigger on a
// many-row statement still sends one message per organization.
//
// Row triggers, because the organization is on the row (or one primary-key lookup away): the write cost is
// that lookup and a queue entry. A price that is archived before and after the write (ad-hoc prices are
// inserted archived) is invisible to the visit and sends nothing.
const TABLES = [
  'organizations',
  'checkout_links',
  'checkout_link_products',
  'products',
  'product_prices',
  'product_custom_fields',
  'custom_fields',
  'discounts',
  'discount_products',
  'webhook_endpoints',
] as const

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function kassa_link_config_notify() returns trigger language plpgsql as $fn$
    declare
      old_org uuid;
      new_org uuid;
    begin
      if tg_op = 'TRUNCATE' then
        perform pg_notify('kassa_link_config', '*');
        return null;
      end if;
      -- plpgsql resolves a field only in the branch that runs, so one function serves every table.
      if tg_table_name = 'product_prices' then
        if (tg_op = 'INSERT' or old.is_archived) and (tg_op = 'DELETE' or new.is_archived) then
          return null;
        end if;
      end if;
      case tg_table_name
        when 'organizations' then
          if tg_op <> 'INSERT' then old_org := old.id; end if;
          if tg_op <> 'DELETE' then new_org := new.id; end if;
        when 'checkout_link_products' then
          if tg_op <> 'INSERT' then select organization_id into old_org from checkout_links where id = old.checkout_link_id; end if;
          if tg_op <> 'DELETE' then select organization_id into new_org from checkout_links where id = new.checkout_link_id; end if;
        when 'product_prices', 'product_custom_fields' then
          if tg_op <> 'INSERT' then select organization_id into old_org from products where id = old.product_id; end if;
          if tg_op <> 'DELETE' then select organization_id into new_org from products where id = new.product_id; end if;
        when 'discount_products' then
          if tg_op <> 'INSERT' then select organization_id into old_org from discounts where id = old.discount_id; end if;
          if tg_op <> 'DELETE' then select organization_id into new_org from discounts where id = new.discount_id; end if;
        else
          if tg_op <> 'INSERT' then old_org := old.organization_id; end if;
          if tg_op <> 'DELETE' then new_org := new.organization_id; end if;
      end case;
      if old_org is null and new_org is null then
        perform pg_notify('kassa_link_config', '*');
      else
        if old_org is not null then perform pg_notify('kassa_link_config', old_org::text); end if;
        if new_org is distinct from old_org and new_org is not null then perform pg_notify('kassa_link_config', new_org::text); end if;
      end if;
      return null;
    end
    $fn$`.execute(db)
  for (const t of TABLES) {
    await sql`create trigger kassa_link_config_notify after insert or update or delete on ${sql.id(t)} for each row execute function kassa_link_config_notify()`.execute(db)
    await sql`create trigger kassa_link_config_notify_truncate after truncate on ${sql.id(t)} for each statement execute function kassa_link_config_notify()`.execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of TABLES) {
    await sql`drop trigger if exists kassa_link_config_notify on ${sql.id(t)}`.execute(db)
    await sql`drop trigger if exists kassa_link_config_notify_truncate on ${sql.id(t)}`.execute(db)
  }
  await sql`drop function if exists kassa_link_config_notify()`.execute(db)
}
