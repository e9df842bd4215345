#!/usr/bin/env bash
# azd postprovision hook. Each step is idempotent, so `azd provision` (or `azd hooks run postprovision`) can run again:
#   1. the approval signing key, created once in Key Vault and never regenerated (ensure-signing-key.sh)
#   2. the app registration's redirect URI, ID tokens and Application ID URI (configure-app-registration.sh)
#   3. the Microsoft Graph permissions: the plan is printed first, then granted (grant-graph-permissions.sh)
#   4. the Sentinel playbooks and automation rule; their identities join INTAKE_ALLOWED_CALLERS (deploy-playbooks.sh)
# Reads the azd environment (settings and main.bicep outputs). Steps a deployer may lack rights for (2-4) warn with
# the exact command for someone who has them, and go on: nothing is granted that was not printed first.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
infra=$(dirname "$here")
rg=${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP (azd env set AZURE_RESOURCE_GROUP <rg>)}
app=${functionAppName:?the functionAppName output is missing: run azd provision}
warnings=0
warn() { echo "WARNING: $*" >&2; warnings=$((warnings + 1)); }

echo "== 1. Approval signing key"
if [[ "${APPROVALS_ENABLED:-true}" != 'false' ]]; then
  bash "$here/ensure-signing-key.sh" "${keyVaultId:?keyVaultId output missing}" "$app" "$rg"
else
  echo "approvals are off: no signing key needed."
fi

echo "== 2. App registration for sign-in"
if [[ -n "${AUTH_CLIENT_ID:-}" ]]; then
  bash "$here/configure-app-registration.sh" "$AUTH_CLIENT_ID" "${functionAppHost:?functionAppHost output missing}" \
    || warn "could not update app registration $AUTH_CLIENT_ID (are you its owner?): run infra/hooks/configure-app-registration.sh $AUTH_CLIENT_ID ${functionAppHost} as an owner"
else
  echo "no AUTH_CLIENT_ID: sign-in is off."
fi

echo "== 3. Microsoft Graph application permissions"
features='containment,lifecycle'
[[ "${APPROVALS_ENABLED:-true}" != 'false' ]] && features+=',approvals'
[[ -n "${APPROVAL_MAIL_SENDER:-}" ]] && features+=',mail'
[[ "${LIFECYCLE_DELETE_ENABLED:-false}" == 'true' ]] && features+=',lifecycle-delete'
[[ -n "${LIFECYCLE_EXPIRY_ATTRIBUTE:-}" ]] && features+=',lifecycle-expiry-attribute'
# Opt-ins a person chooses knowingly, e.g. azd env set GRAPH_OPT_IN_FEATURES sp-disable-any
[[ -n "${GRAPH_OPT_IN_FEATURES:-}" ]] && features+=",${GRAPH_OPT_IN_FEATURES}"
grant=("$infra/grant-graph-permissions.sh" --principal-id "${principalId:?principalId output missing}" --features "$features")
echo "Plan for features $features:"
bash "$infra/grant-graph-permissions.sh" --plan-only --features "$features" | sed 's/^/  /'
if [[ "${GRANT_GRAPH_PERMISSIONS:-true}" == 'false' ]]; then
  echo "GRANT_GRAPH_PERMISSIONS=false: not granted. A Privileged Role Administrator runs: bash ${grant[*]} --apply"
elif ! bash "${grant[@]}" --apply; then
  warn "Graph permissions not (all) granted. A Privileged Role Administrator runs: bash ${grant[*]} --apply"
fi

echo "== 4. Sentinel playbooks"
if [[ -z "${SENTINEL_WORKSPACES:-}" || "${DEPLOY_PLAYBOOKS:-true}" == 'false' ]]; then
  echo "skipped (SENTINEL_WORKSPACES empty or DEPLOY_PLAYBOOKS=false)."
elif out=$(bash "$here/deploy-playbooks.sh" "${intakeUrl:?}" "${intakeAudience:-}" "$app" "$rg"); then
  ids=$(sed -n 's/^PLAYBOOK_PRINCIPAL_IDS=//p' <<<"$out" | tail -n 1)
  azd env set PLAYBOOK_PRINCIPAL_IDS "$ids"
  # main.bicep joins INTAKE_ALLOWED_CALLERS and PLAYBOOK_PRINCIPAL_IDS; apply the same now, without waiting for the
  # next provision, so the playbooks are allowed callers from their first run.
  callers=$(printf '%s,%s' "${INTAKE_ALLOWED_CALLERS:-}" "$ids" | sed 's/^,//; s/,$//')
  current=$(az functionapp config appsettings list -g "$rg" -n "$app" --query "[?name=='INTAKE_ALLOWED_CALLERS'].value | [0]" -o tsv)
  if [[ "$current" != "$callers" ]]; then
    az functionapp config appsettings set -g "$rg" -n "$app" --settings "INTAKE_ALLOWED_CALLERS=$callers" --output none
    echo "INTAKE_ALLOWED_CALLERS now names the playbooks' identities."
  fi
else
  warn "playbooks not deployed: see the error above; run 'azd hooks run postprovision' once it is fixed"
fi

[[ $warnings -gt 0 ]] && echo "== $warnings warning(s) above."
echo "== Done. Health: ${healthUrl:-https://<app>/api/health} names any feature still missing a Graph permission."
