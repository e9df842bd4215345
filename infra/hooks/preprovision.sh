#!/usr/bin/env bash
# azd preprovision hook: stop before anything is created when the settings cannot make a safe deployment.
# (main.bicep enforces the same with fail(); this only says it sooner and tells how to fix it.)
set -euo pipefail

approvals=${APPROVALS_ENABLED:-true}
if [[ "$approvals" != 'false' && -z "${AUTH_CLIENT_ID:-}" ]]; then
  cat >&2 <<'MSG'
error: approvals are on (APPROVALS_ENABLED defaults to true) but AUTH_CLIENT_ID is not set.
       Approvals decide with the signed-in approver's identity, so they need App Service Authentication and an Entra
       app registration. Create one (README "Deploy", step 2), then:  azd env set AUTH_CLIENT_ID <application id>
       Or deploy without approvals:  azd env set APPROVALS_ENABLED false
MSG
  exit 1
fi
if [[ "${RESPONDER_MODE:-report-only}" == 'enforce' && -z "${SENTINEL_WORKSPACES:-}" && "${INTAKE_ALLOW_ANY_WORKSPACE:-false}" != 'true' ]]; then
  echo "error: RESPONDER_MODE=enforce needs SENTINEL_WORKSPACES (or INTAKE_ALLOW_ANY_WORKSPACE=true): the app refuses to start otherwise." >&2
  exit 1
fi
echo "preprovision: settings look deployable (mode ${RESPONDER_MODE:-report-only}, approvals $approvals)."
