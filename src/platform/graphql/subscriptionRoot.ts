/**
 * A subscription's root field may not be skipped or included conditionally (the GraphQL
 * specification's rule since its 2021 edition; graphql-js 16, which we run, does not check it).
 * With `@skip`/`@include` there, grafast failed while planning (an empty selection set), and
 * graphql-js's own SingleFieldSubscriptionsRule threw while validating `@include(if: $x)` (it reads
 * the directive without the variables): both answered INTERNAL. That rule is replaced by one that
 * refuses such a document as the invalid document it is, VALIDATION_FAILED, and otherwise runs it.
 */
import {
  type ASTVisitor,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  SingleFieldSubscriptionsRule,
  type ValidationRule,
} from "postgraphile/graphql";

const CONDITIONAL = new Set(["skip", "include"]);

/** Whether a root selection set, through its fragments, puts @skip or @include on a selection. */
function conditional(context: ValidationContext, selectionSet: SelectionSetNode, seen: Set<string>): boolean {
  return selectionSet.selections.some((selection) => {
    if (selection.directives?.some((directive) => CONDITIONAL.has(directive.name.value))) return true;
    if (selection.kind === Kind.INLINE_FRAGMENT) return conditional(context, selection.selectionSet, seen);
    if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = context.getFragment(selection.name.value);
      return fragment != null && conditional(context, fragment.selectionSet, seen);
    }
    return false;
  });
}

const UnconditionalSubscriptionRootRule: ValidationRule = (context): ASTVisitor => {
  const builtIn = SingleFieldSubscriptionsRule(context) as {
    OperationDefinition?: (node: OperationDefinitionNode) => void;
  };
  return {
    OperationDefinition(node) {
      if (node.operation !== "subscription" || !conditional(context, node.selectionSet, new Set())) {
        builtIn.OperationDefinition?.(node);
        return;
      }
      const name = node.name ? `Subscription "${node.name.value}"` : "An anonymous subscription";
      context.reportError(
        new GraphQLError(`${name} must not use @skip or @include on its root field.`, {
          nodes: [node],
          extensions: { code: "VALIDATION_FAILED" },
        }),
      );
    },
  };
};

/** graphql-js's SingleFieldSubscriptionsRule replaced by the rule above; any other rule as it is. */
export function withSubscriptionRootRule(rule: ValidationRule): ValidationRule {
  return rule === SingleFieldSubscriptionsRule ? UnconditionalSubscriptionRootRule : rule;
}
