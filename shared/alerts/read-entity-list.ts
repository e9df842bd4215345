import { parseJsonText } from '../http/parse-json-text';
import { MAX_ENTITIES } from './collect-targets';
import { entityToTarget, type EntityOutcome } from './entity-to-target';
import { describeType, indexPath, ownElements, type FieldReader, type FoundField } from './field-reader';

/** Entities still allowed in this body; shared by every entity list of one body. */
export interface EntityBudget {
  remaining: number;
}

/** A new budget of {@link MAX_ENTITIES} for one body. */
export function newEntityBudget(): EntityBudget {
  return { remaining: MAX_ENTITIES };
}

/**
 * Reads one list of entities (`relatedEntities`, `Entities`, …) and turns each into a target or a rejection.
 * The list may be an array or, as the alert trigger sometimes sends it, the JSON text of an array; a text
 * that is not a JSON array, a list of another type, or more entities than the body's budget are problems on
 * `reader` naming the list.
 */
export function readEntityList(reader: FieldReader, list: FoundField | undefined, budget: EntityBudget): EntityOutcome[] {
  if (list === undefined) {
    return [];
  }
  let items: unknown = list.value;
  if (typeof items === 'string') {
    const parsed = parseJsonText(items);
    if (!parsed.ok) {
      reader.problem(list.path, `is a string but not a JSON array of entities: ${parsed.problem.message}`);
      return [];
    }
    items = parsed.value;
  }
  if (!Array.isArray(items)) {
    reader.problem(list.path, `must be an array of entities, got ${describeType(items)}`);
    return [];
  }
  if (items.length > budget.remaining) {
    reader.problem(list.path, `has too many entities: at most ${MAX_ENTITIES} are read from one body`);
    budget.remaining = 0;
    return [];
  }
  budget.remaining -= items.length;
  return ownElements(items).map((entity, i) => entityToTarget(entity, indexPath(list.path, i), reader));
}
