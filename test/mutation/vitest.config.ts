import type { ViteUserConfig } from 'vitest/config' with { 'resolution-mode': 'import' };

/**
 * The tests `npm run test:mutation` runs against each mutant: the unit tests that pin the security-critical modules
 * (see stryker.config.json), and nothing that needs Azurite, the simulator's storage or a browser. Stryker's own
 * `testFiles` option is not used for this: with it, StrykerJS 9.6 activates module-level (static) mutants after the
 * module was loaded, so they are reported as survivors whatever the tests do (stryker-js#6144).
 */
const config: ViteUserConfig = {
  test: {
    name: 'mutation',
    environment: 'node',
    include: [
      'test/unit/containment/verify-at-source.test.ts',
      'test/unit/plans/guardrails.test.ts',
      'test/unit/plans/read-ahead.test.ts',
      'test/unit/approvals/approval-token.test.ts',
      'test/unit/approvals/anti-forgery.test.ts',
      'test/unit/approvals/decide-rules.test.ts',
      'test/unit/approvals/separation-of-duties.test.ts',
      'test/unit/alerts/entity-to-target.test.ts',
      'test/unit/alerts/sentinel-entity.test.ts',
      // The intake's parser reads every entity through entityToTarget and the entity schema. The two fuzz files
      // (parse-alert.hostile, parse-alert.property) are left out: thousands of bodies per mutant, and a failing
      // property shrinks for minutes, so they would take most of the run for mutants the files above kill.
      'test/unit/alerts/parse-alert.alert-trigger.test.ts',
      'test/unit/alerts/parse-alert.direct.test.ts',
      'test/unit/alerts/parse-alert.entity-trigger.test.ts',
      'test/unit/alerts/parse-alert.incident.test.ts',
      'test/unit/alerts/parse-alert.schemas.test.ts',
      'test/unit/auth/*.test.ts',
    ],
  },
};

export default config;
