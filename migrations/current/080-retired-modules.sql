--------------------------------------------------------------------------------------------------
-- 080-retired-modules: no catalogue rows or permissions for modules that do not exist. commerce,
-- messaging and builds were registered ahead of their code, with permissions nothing checked
-- (catalog.manage, orders.read, payments.read, broadcasts.manage, builds.request); a module's
-- own section adds them when the module exists. Last, so that the media section could still see
-- who held catalog.manage.

delete from app_public.role_permissions
  where permission in ('catalog.manage', 'orders.read', 'payments.read', 'broadcasts.manage', 'builds.request');
delete from app_public.permissions
  where name in ('catalog.manage', 'orders.read', 'payments.read', 'broadcasts.manage', 'builds.request');

delete from app_public.tenant_modules where module in ('commerce', 'messaging', 'builds');
delete from app_public.modules where name in ('commerce', 'messaging', 'builds');
