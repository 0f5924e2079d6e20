-- 010-identity: a registration issued before its tenant was suspended cannot be confirmed (the
-- account would exist although no session may be opened for it).
create or replace function app_private.confirm_registration(
  token_hash bytea, code_hash bytea, max_attempts integer,
  out status text, out user_id uuid
)
  language plpgsql volatile
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  v_reg app_private.registrations;
  v_member_role uuid;
begin
  select * into v_reg from app_private.registrations r where r.token_hash = confirm_registration.token_hash for update;
  if not found or v_reg.confirmed_at is not null or v_reg.expires_at <= now() then
    status := 'invalid';
    return;
  end if;
  if v_reg.locked_at is not null then
    status := 'locked';
    return;
  end if;
  -- A registration of a tenant that is no longer active cannot be completed.
  if not exists (select 1 from app_public.tenants t where t.id = v_reg.tenant_id and t.status = 'active') then
    status := 'invalid';
    return;
  end if;
  if v_reg.code_hash <> confirm_registration.code_hash then
    update app_private.registrations r
      set attempts = r.attempts + 1,
          locked_at = case when r.attempts + 1 >= confirm_registration.max_attempts then now() end
      where r.id = v_reg.id;
    status := 'wrong_code';
    return;
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = v_reg.tenant_id and u.email = v_reg.email) then
    status := 'email_taken';
    return;
  end if;
  if exists (select 1 from app_public.users u where u.tenant_id = v_reg.tenant_id and u.username = v_reg.username) then
    status := 'username_taken';
    return;
  end if;
  update app_private.registrations r set confirmed_at = now() where r.id = v_reg.id;
  insert into app_public.users (tenant_id, email, username, full_name)
    values (v_reg.tenant_id, v_reg.email, v_reg.username, v_reg.full_name) returning id into user_id;
  insert into app_private.user_secrets (user_id, password_hash, password_changed_at) values (confirm_registration.user_id, v_reg.password_hash, now());
  select r.id into v_member_role from app_public.roles r where r.tenant_id = v_reg.tenant_id and r.name = 'member';
  if v_member_role is not null then
    insert into app_public.user_roles (user_id, role_id) values (confirm_registration.user_id, v_member_role);
  end if;
  status := 'confirmed';
end;
$$;
