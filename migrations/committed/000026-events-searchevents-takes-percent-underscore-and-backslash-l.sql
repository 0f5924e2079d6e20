--! Previous: sha1:7cdb8ab864cab09d0f3dbc8952d6ba140c7fed48
--! Hash: sha1:17deb920645befc45b3cca1bb96b2f0a4a5183a7
--! Message: Events: searchEvents takes percent, underscore and backslash literally in its name match

--! split: 1-current.sql
-- events: searchEvents(search:) matches its text literally in the name fallback. The ILIKE pattern
-- took `%` and `_` as wildcards (a search for "%" found every event) and `\` as its escape (a
-- search for a backslash found none); the pattern now escapes them with `!`, its declared escape.

create or replace function app_public.search_events(search text default null, starts_after timestamptz default null,
  starts_before timestamptz default null, upcoming boolean default false)
  returns setof app_public.events
  language sql
  stable
as $$
  select e.* from app_public.events e
  where app_hidden.assert_search_text(search_events.search)
    and (search_events.search is null or to_tsvector('simple', e.name || ' ' || coalesce(e.short_description, '') || ' ' || coalesce(e.description, ''))
           @@ websearch_to_tsquery('simple', search_events.search)
         or e.name ilike '%' || replace(replace(replace(search_events.search, '!', '!!'), '%', '!%'), '_', '!_') || '%'
              escape '!')
    and (search_events.starts_after is null or e.starts_at >= search_events.starts_after)
    and (search_events.starts_before is null or e.starts_at < search_events.starts_before)
    and (not coalesce(search_events.upcoming, false) or e.starts_at > now())
$$;
