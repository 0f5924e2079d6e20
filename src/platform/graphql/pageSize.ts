/**
 * Every connection reads at most one page. PostGraphile V5 has no default page size: a connection
 * queried without `first` and `last` (or with `first: null`) would return every row it can see.
 * Here `first` defaults to GRAPHQL_MAX_PAGE_SIZE whenever neither `first` nor `last` is given; the
 * validation rules (src/platform/graphql/limits.ts) refuse anything larger that a client asks for.
 */
import { constant, lambda, type Step } from "postgraphile/grafast";
import { AppError, NEGATIVE_PAGE_SIZE } from "../errors.ts";

interface PageableStep extends Step {
  setFirst(first: Step<number | null | undefined> | number): void;
}

const isPageable = (step: unknown): step is PageableStep =>
  typeof (step as { setFirst?: unknown } | null)?.setFirst === "function";

/**
 * A negative size is refused here rather than left to PostgreSQL: with `pageInfo` selected, the
 * connection reads one row more than asked, and `first: -1` became `LIMIT 0`, an empty page that
 * said it had a next one.
 */
const pageSizeOf =
  (maxPageSize: number) =>
  ([first, last]: readonly [unknown, unknown]): number | null => {
    if ((typeof first === "number" && first < 0) || (typeof last === "number" && last < 0)) {
      throw new AppError("VALIDATION_FAILED", NEGATIVE_PAGE_SIZE);
    }
    return (first ?? (last == null ? maxPageSize : null)) as number | null;
  };

export function makeDefaultPageSizePlugin(maxPageSize: number): GraphileConfig.Plugin {
  // "Type.field" of the connections whose `first` this plugin applies itself → whether they take `last`.
  const managed = new Map<string, { hasLast: boolean }>();
  const pageSize = pageSizeOf(maxPageSize);
  return {
    name: "TesseraDefaultPageSize",
    version: "0.1.0",
    after: ["PgFirstLastBeforeAfterArgsPlugin"],
    schema: {
      hooks: {
        GraphQLObjectType_fields_field_args(args, _build, context) {
          if (!context.scope.isPgFieldConnection || !args.first) return args;
          managed.set(`${context.Self.name}.${context.scope.fieldName}`, { hasLast: Boolean(args.last) });
          // `first` is read by the field's plan below instead, so that its absence counts too.
          const { applyPlan: _applied, ...first } = args.first as typeof args.first & { applyPlan?: unknown };
          return { ...args, first };
        },
        GraphQLObjectType_fields_field(field, _build, context) {
          if (!context.scope.isPgFieldConnection || typeof field.plan !== "function") return field;
          const key = `${context.Self.name}.${context.scope.fieldName}`;
          const plan = field.plan;
          return {
            ...field,
            plan(...planArgs: Parameters<typeof plan>) {
              const $connection: unknown = plan.apply(this, planArgs);
              const fieldArgs = planArgs[1];
              const args = managed.get(key);
              if (args && isPageable($connection)) {
                // Functions returning a set take no `last` (they cannot be read backwards).
                const $last = args.hasLast ? fieldArgs.getRaw("last") : constant(null);
                const $first = lambda([fieldArgs.getRaw("first"), $last], pageSize, true);
                $connection.setFirst($first);
              }
              return $connection as ReturnType<typeof plan>;
            },
          };
        },
      },
    },
  };
}
