import { containPlanner, type ContainDeps } from '../containment/contain-planner';
import { releasePlanner } from '../containment/release-planner';
import { deletePlanner, expirePlanner, type LifecycleDeps } from '../lifecycle/lifecycle-planners';
import type { Planners } from '../plans/run-case';

/** The planner of each plan a target can be in: the one place that knows them all. */
export function buildPlanners(deps: ContainDeps & LifecycleDeps): Planners {
  return {
    contain: containPlanner(deps),
    release: releasePlanner(deps),
    expire: expirePlanner(deps),
    delete: deletePlanner(deps),
  };
}
