#!/usr/bin/env bash
# Grants the responder identity the least-privileged Microsoft Graph APPLICATION permissions its enabled features
# need, and the "Microsoft Sentinel Responder" role on the Sentinel workspace(s).
#
# Prints what it would do (a dry run) unless --apply is given. Idempotent: permissions and roles already assigned
# are skipped. Needs the Azure CLI signed in as someone who may grant app roles to a service principal
# (Privileged Role Administrator, or Global Administrator) and assign Azure roles on the workspace (Owner or
# User Access Administrator / Role Based Access Control Administrator).
#
# Usage:
#   infra/grant-graph-permissions.sh --principal-id <object id of the responder identity>
#       [--features containment,approvals,lifecycle[,mail]]    (default: containment,approvals,lifecycle)
#       [--with-delete]              lifecycle deletes agents (LIFECYCLE_DELETE_ENABLED=true)
#       [--with-expiry-attribute]    lifecycle reads a custom security attribute (LIFECYCLE_EXPIRY_ATTRIBUTE)
#       [--sp-disable all|owned]     disable any service principal (default) or only ones the identity owns
#       [--workspace-id <ARM id of the Log Analytics workspace>]   (repeatable)
#       [--apply]
#   infra/grant-graph-permissions.sh --emit-json     print the permission table as JSON (graph-permissions.json)
#
# The table below is the single source of the permissions: infra/graph-permissions.json is generated from it
# (`infra/grant-graph-permissions.sh --emit-json > infra/graph-permissions.json`) and the unit tests check that
# both agree. Permission names come from shared reference/graph/api-facts.md and the Graph API reference pages.

set -euo pipefail

if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 4))); then
  echo "error: bash 4.4 or later is required (Azure Cloud Shell has it; on macOS: brew install bash)" >&2
  exit 2
fi

GRAPH_APP_ID='00000003-0000-0000-c000-000000000000'
SENTINEL_RESPONDER_ROLE_ID='3e150937-b8fe-4cfb-8069-0eaf05ecd056' # Microsoft Sentinel Responder (built-in)
GRAPH_URL="${GRAPH_URL:-https://graph.microsoft.com}"

# feature | permission | condition | why | calls (';'-separated)
# condition: always | with-delete | with-expiry-attribute | sp-disable=all | sp-disable=owned
PERMISSION_TABLE=$(cat <<'TABLE'
containment|AgentIdentity.EnableDisable.All|always|Disable a compromised agent identity (and re-enable it after an approved release).|PATCH /servicePrincipals/{id}/microsoft.graph.agentIdentity
containment|AgentIdentityBlueprintPrincipal.EnableDisable.All|always|Disable an agent identity blueprint principal, which disables every agent of the blueprint; the responder only does this after approval.|PATCH /servicePrincipals/{id}/microsoft.graph.agentIdentityBlueprintPrincipal
containment|Application.ReadWrite.All|sp-disable=all|Disable ordinary (non-agent) service principals. Application.ReadWrite.OwnedBy reaches only service principals the responder owns, so containing arbitrary ones needs Application.ReadWrite.All; pass --sp-disable owned to trade coverage for privilege.|PATCH /servicePrincipals/{id}
containment|Application.ReadWrite.OwnedBy|sp-disable=owned|Disable service principals the responder identity owns (and only those).|PATCH /servicePrincipals/{id}
containment|IdentityRiskyAgent.ReadWrite.All|always|Confirm agent identities, blueprint principals and agent users compromised, or dismiss their risk on release (beta API).|POST /beta/identityProtection/riskyAgents/confirmCompromised;POST /beta/identityProtection/riskyAgents/dismiss
containment|IdentityRiskyServicePrincipal.ReadWrite.All|always|Confirm service principals compromised, or dismiss their risk on release (needs Workload Identities Premium).|POST /identityProtection/riskyServicePrincipals/confirmCompromised;POST /identityProtection/riskyServicePrincipals/dismiss
containment|IdentityRiskyUser.ReadWrite.All|always|Confirm human users compromised, or dismiss their risk on release (needs Entra ID P2).|POST /identityProtection/riskyUsers/confirmCompromised;POST /identityProtection/riskyUsers/dismiss
containment|User.RevokeSessions.All|always|Revoke the sign-in sessions of agent users and users.|POST /users/{id}/revokeSignInSessions
containment|Directory.Read.All|always|Resolve every target object id to its kind in one call; directoryObjects/getByIds documents Directory.Read.All as its least-privileged application permission.|POST /directoryObjects/getByIds
containment|Application.Read.All|always|Read service principals (appOwnerOrganizationId guardrail, appId lookup, tags) and their owners.|GET /servicePrincipals/{id};GET /servicePrincipals(appId='{appId}');GET /servicePrincipals/{id}/owners
containment|AgentIdentity.Read.All|always|Read an agent identity before acting on it.|GET /servicePrincipals/{id}/microsoft.graph.agentIdentity
containment|User.Read.All|always|Resolve targets named by UPN and read users and agent users.|GET /users/{id or upn}
approvals|User.Read.All|always|Read agent users' sponsors (who may not approve) and, with GroupMember.Read.All, check approver group membership.|GET /users/{id}/sponsors;POST /users/{id}/checkMemberGroups
approvals|GroupMember.Read.All|always|Check whether the signed-in approver is in an approver group (checkMemberGroups for users needs User.Read.All and GroupMember.Read.All).|POST /users/{id}/checkMemberGroups
approvals|Application.Read.All|always|Read owners and blueprint principal sponsors, who may not approve their own agent's release.|GET /servicePrincipals/{id}/owners;GET /servicePrincipals/{id}/microsoft.graph.agentIdentityBlueprintPrincipal/sponsors
lifecycle|AgentIdentity.Read.All|always|List agent identities for the expiry sweep and the drift check.|GET /servicePrincipals/microsoft.graph.agentIdentity
lifecycle|Application.Read.All|always|List service principals tagged as agents and read their end-date tags.|GET /servicePrincipals?$filter=tags/any(t:t eq 'agent')
lifecycle|User.Read.All|always|Read sponsors to warn them before an agent expires and to find orphaned agents.|GET /users/{id}/sponsors;GET /users/{id}
lifecycle|AgentIdentity.EnableDisable.All|always|Disable expired agents, and re-disable contained agents found re-enabled without approval (drift).|PATCH /servicePrincipals/{id}/microsoft.graph.agentIdentity
lifecycle|AgentIdentity.DeleteRestore.All|with-delete|Delete agents past the grace period (LIFECYCLE_DELETE_ENABLED=true); deleted agents are restorable for 30 days.|DELETE /servicePrincipals/{id}/microsoft.graph.agentIdentity
lifecycle|CustomSecAttributeAssignment.Read.All|with-expiry-attribute|Read an agent's end date from a custom security attribute (LIFECYCLE_EXPIRY_ATTRIBUTE).|GET /servicePrincipals/{id}?$select=customSecurityAttributes
mail|Mail.Send|always|Send approval mail from APPROVAL_MAIL_SENDER. Unscoped it can send as any mailbox: restrict the identity to that one mailbox with Exchange RBAC for Applications.|POST /users/{sender}/sendMail
TABLE
)

KNOWN_FEATURES='containment approvals lifecycle mail'

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "error: $*" >&2; exit 2; }

json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '%s' "$s"
}

emit_json() {
  local first=1 feature permission condition why calls call sep
  printf '[\n'
  while IFS='|' read -r feature permission condition why calls; do
    [[ -z "$feature" ]] && continue
    [[ $first -eq 1 ]] || printf ',\n'
    first=0
    printf '  {\n    "feature": "%s",\n    "permission": "%s",\n    "condition": "%s",\n    "why": "%s",\n    "calls": [' \
      "$(json_escape "$feature")" "$(json_escape "$permission")" "$(json_escape "$condition")" "$(json_escape "$why")"
    sep=''
    IFS=';' read -r -a call_list <<<"$calls"
    for call in "${call_list[@]}"; do
      printf '%s"%s"' "$sep" "$(json_escape "$call")"
      sep=', '
    done
    printf ']\n  }'
  done <<<"$PERMISSION_TABLE"
  printf '\n]\n'
}

# ---------------------------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------------------------

PRINCIPAL_ID=''
FEATURES='containment,approvals,lifecycle'
WITH_DELETE=0
WITH_EXPIRY_ATTRIBUTE=0
SP_DISABLE='all'
WORKSPACE_IDS=()
APPLY=0
PLAN_ONLY=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --principal-id) PRINCIPAL_ID=${2:-}; shift 2 ;;
    --features) FEATURES=${2:-}; shift 2 ;;
    --with-delete) WITH_DELETE=1; shift ;;
    --with-expiry-attribute) WITH_EXPIRY_ATTRIBUTE=1; shift ;;
    --sp-disable) SP_DISABLE=${2:-}; shift 2 ;;
    --workspace-id) WORKSPACE_IDS+=("${2:-}"); shift 2 ;;
    --apply) APPLY=1; shift ;;
    --plan-only) PLAN_ONLY=1; shift ;; # print the selected permissions without calling Azure (used by tests)
    --emit-json) emit_json; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[[ "$SP_DISABLE" == 'all' || "$SP_DISABLE" == 'owned' ]] || die "--sp-disable must be all or owned"
IFS=',' read -r -a FEATURE_LIST <<<"$FEATURES"
for f in "${FEATURE_LIST[@]}"; do
  [[ " $KNOWN_FEATURES " == *" $f "* ]] || die "unknown feature '$f' (known: $KNOWN_FEATURES)"
done
GUID_RE='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
if [[ $PLAN_ONLY -eq 0 ]]; then
  [[ "$PRINCIPAL_ID" =~ $GUID_RE ]] || die "--principal-id must be the identity's object id (the principalId output of main.bicep)"
fi
for ws in "${WORKSPACE_IDS[@]}"; do
  [[ "$ws" =~ ^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.OperationalInsights/workspaces/[^/]+$ ]] \
    || die "--workspace-id must be a Log Analytics workspace resource id, got '$ws'"
done

condition_holds() {
  case "$1" in
    always) return 0 ;;
    with-delete) [[ $WITH_DELETE -eq 1 ]] ;;
    with-expiry-attribute) [[ $WITH_EXPIRY_ATTRIBUTE -eq 1 ]] ;;
    sp-disable=all) [[ "$SP_DISABLE" == 'all' ]] ;;
    sp-disable=owned) [[ "$SP_DISABLE" == 'owned' ]] ;;
    *) die "unknown condition '$1' in the permission table" ;;
  esac
}

# Selected permissions, in table order, each once (with the first reason that selected it).
SELECTED=()
declare -A WHY=()
while IFS='|' read -r feature permission condition why _calls; do
  [[ -z "$feature" ]] && continue
  [[ ",$FEATURES," == *",$feature,"* ]] || continue
  condition_holds "$condition" || continue
  if [[ -z "${WHY[$permission]:-}" ]]; then
    SELECTED+=("$permission")
    WHY[$permission]="[$feature] $why"
  fi
done <<<"$PERMISSION_TABLE"

if [[ $PLAN_ONLY -eq 1 ]]; then
  for p in "${SELECTED[@]}"; do printf '%s\t%s\n' "$p" "${WHY[$p]}"; done
  exit 0
fi

# ---------------------------------------------------------------------------------------------------------------
# Graph app role assignments
# ---------------------------------------------------------------------------------------------------------------

command -v az >/dev/null || die "the Azure CLI (az) is required"
az account show >/dev/null 2>&1 || die "sign in first: az login"

mode='DRY RUN (nothing changes; re-run with --apply)'
[[ $APPLY -eq 1 ]] && mode='APPLY'
echo "== Microsoft Graph application permissions for $PRINCIPAL_ID — $mode"
echo "   features: $FEATURES; sp-disable: $SP_DISABLE; delete: $WITH_DELETE; expiry attribute: $WITH_EXPIRY_ATTRIBUTE"

graph_sp_id=$(az ad sp show --id "$GRAPH_APP_ID" --query id -o tsv)
[[ -n "$graph_sp_id" ]] || die "Microsoft Graph service principal not found in this tenant"
az ad sp show --id "$PRINCIPAL_ID" --query id -o tsv >/dev/null 2>&1 \
  || die "no service principal with object id $PRINCIPAL_ID (pass the identity's principalId, not its clientId)"

assigned=$(az rest --method GET \
  --uri "$GRAPH_URL/v1.0/servicePrincipals/$PRINCIPAL_ID/appRoleAssignments?\$top=999" \
  --query "value[?resourceId=='$graph_sp_id'].appRoleId" -o tsv)

failures=0
for permission in "${SELECTED[@]}"; do
  role_id=$(az ad sp show --id "$GRAPH_APP_ID" --query "appRoles[?value=='$permission'].id | [0]" -o tsv)
  if [[ -z "$role_id" ]]; then
    echo "  !! $permission: Microsoft Graph in this tenant/cloud has no such application permission" >&2
    failures=$((failures + 1))
    continue
  fi
  if grep -qix "$role_id" <<<"$assigned"; then
    echo "  ok   $permission (already granted)"
    continue
  fi
  if [[ $APPLY -eq 1 ]]; then
    body=$(printf '{"principalId":"%s","resourceId":"%s","appRoleId":"%s"}' "$PRINCIPAL_ID" "$graph_sp_id" "$role_id")
    if az rest --method POST --uri "$GRAPH_URL/v1.0/servicePrincipals/$PRINCIPAL_ID/appRoleAssignments" \
      --headers 'Content-Type=application/json' --body "$body" -o none; then
      echo "  +    $permission (granted)"
    else
      echo "  !!   $permission: grant failed" >&2
      failures=$((failures + 1))
    fi
  else
    echo "  +    $permission (would grant) — ${WHY[$permission]}"
  fi
done

# Grants that no feature selected are reported, never removed: removing is a decision for a person.
for role_id in $assigned; do
  value=$(az ad sp show --id "$GRAPH_APP_ID" --query "appRoles[?id=='$role_id'].value | [0]" -o tsv)
  if [[ -n "$value" && -z "${WHY[$value]:-}" ]]; then
    echo "  ?    $value is granted but not needed by the selected features (remove it by hand if unintended)"
  fi
done

# ---------------------------------------------------------------------------------------------------------------
# Microsoft Sentinel Responder on each workspace (incident re-read for verification, comments, status)
# ---------------------------------------------------------------------------------------------------------------

if [[ ${#WORKSPACE_IDS[@]} -eq 0 ]]; then
  echo "== Microsoft Sentinel Responder: no --workspace-id given, skipped"
fi
for ws in "${WORKSPACE_IDS[@]}"; do
  existing=$(az role assignment list --assignee "$PRINCIPAL_ID" --role "$SENTINEL_RESPONDER_ROLE_ID" --scope "$ws" \
    --query 'length(@)' -o tsv 2>/dev/null || echo 0)
  if [[ "$existing" != '0' ]]; then
    echo "== Microsoft Sentinel Responder on $ws: ok (already assigned)"
  elif [[ $APPLY -eq 1 ]]; then
    if az role assignment create --assignee-object-id "$PRINCIPAL_ID" --assignee-principal-type ServicePrincipal \
      --role "$SENTINEL_RESPONDER_ROLE_ID" --scope "$ws" -o none; then
      echo "== Microsoft Sentinel Responder on $ws: assigned"
    else
      echo "== Microsoft Sentinel Responder on $ws: FAILED" >&2
      failures=$((failures + 1))
    fi
  else
    echo "== Microsoft Sentinel Responder on $ws: would assign"
  fi
done

if [[ $failures -gt 0 ]]; then
  echo "$failures step(s) failed" >&2
  exit 1
fi
[[ $APPLY -eq 1 ]] || echo "Dry run complete. Re-run with --apply to make these changes."
