/** Media: a tenant's images are read by its members and its bots; uploads go through the REST route. */
import { defineExpectations, NO_GRANT, OWN_ALL } from "../expectations.ts";

export default defineExpectations("media", {
  images: {
    select: { anonymous: "none", member: OWN_ALL, manager: OWN_ALL, admin: OWN_ALL, owner: OWN_ALL, bot: OWN_ALL },
    insert: NO_GRANT,
    update: NO_GRANT,
    delete: NO_GRANT,
  },
});
