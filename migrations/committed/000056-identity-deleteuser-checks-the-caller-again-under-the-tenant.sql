--! Previous: sha1:080f648fa6c2192683a440b9a267c5b1d0bbbae8
--! Hash: sha1:3ccc7c67cee072e2a1a854a0e6b14dd5f9b5513c
--! Message: Identity: deleteUser checks the caller again under the tenant's lock (two admins deleting each other both succeeded)

--! split: 030-identity.sql
-- deleteUser: two users deleting each other at once both succeeded, the second as a caller the first
-- had just deleted. The caller is checked again once the tenant's lock is held.
create or replace function app_public.delete_user(user_id uuid)
 RETURNS boolean
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
declare
  v_caller uuid := app_public.current_user_id();
  v_tenant uuid := app_public.current_tenant_id();
  v_target app_public.users;
begin
  if v_caller is null then
    raise exception 'Sign in to delete users' using errcode = 'TAUTH';
  end if;
  if not app_public.current_user_has_permission('users.manage') then
    raise exception 'Deleting users needs the users.manage permission' using errcode = 'TFORB';
  end if;
  if delete_user.user_id = v_caller then
    raise exception 'You cannot delete yourself' using errcode = 'TFORB', detail = '{"reason":"SELF_DELETION"}';
  end if;
  -- Every change of a tenant's owners takes this lock first, so the owner count below already
  -- includes any concurrent deletion: two owners deleting each other cannot leave none.
  perform 1 from app_public.tenants t where t.id = v_tenant for no key update;
  -- Checked again under the lock: a caller that a call holding it first deleted (two admins deleting
  -- each other at once) is no caller any more, as if the two had run one after the other.
  if not exists (select 1 from app_public.users u where u.id = v_caller and u.deleted_at is null) then
    raise exception 'Sign in to delete users' using errcode = 'TAUTH';
  end if;
  select * into v_target from app_public.users u
    where u.id = delete_user.user_id and u.tenant_id = v_tenant and u.deleted_at is null and not u.is_system;
  if not found then
    raise exception 'No such user' using errcode = 'TNFND';
  end if;
  if exists (
    select 1 from app_public.user_roles ur where ur.user_id = v_target.id and not app_private.can_grant_role(v_caller, ur.role_id)
  ) then
    raise exception 'You cannot delete a user whose role is above your own' using errcode = 'TFORB', detail = '{"reason":"ROLE_ABOVE_YOURS"}';
  end if;
  if exists (
    select 1 from app_public.user_roles ur join app_public.roles r on r.id = ur.role_id
    where ur.user_id = v_target.id and r.is_builtin and r.name = 'owner'
  ) and not app_private.tenant_has_live_owner(v_tenant, v_target.id) then
    raise exception 'The last owner of a tenant cannot be deleted' using errcode = 'TCONF', detail = '{"reason":"LAST_OWNER"}';
  end if;
  update app_public.users u set deleted_at = now() where u.id = v_target.id;
  update app_private.sessions s set revoked_at = now(), revoked_reason = 'user_deleted'
    where s.user_id = v_target.id and s.revoked_at is null;
  perform app_private.enqueue_job('scrub_user', json_build_object('userId', v_target.id), job_key => 'scrub_user:' || v_target.id);
  return true;
end;
$function$;
comment on function app_public.delete_user(uuid) is E'@module identity\n@resultFieldName deleted\n'
  'Soft-deletes a user of the current tenant (needs users.manage): revokes every session; a job scrubs personal '
  'data. FORBIDDEN for yourself (details.reason SELF_DELETION) or a user whose role is above yours '
  '(ROLE_ABOVE_YOURS); CONFLICT (LAST_OWNER) for the tenant''s last owner; UNAUTHENTICATED for a caller deleted '
  'meanwhile.';
