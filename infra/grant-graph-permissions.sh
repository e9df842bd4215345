#!/usr/bin/env bash
# Grants the responder identity the least-privileged Microsoft Graph APPLICATION permissions its enabled features
# need, and (with --workspace-id) the Azure roles it needs on Sentinel workspaces the Bicep could not reach.
#
# Prints what it would do (a dry run) unless --apply is given. Idempotent: permissions and roles already assigned
# are skipped; grants no feature needs are reported, never removed. Needs the Azure CLI signed in as someone who
# may grant app roles (Privileged Role Administrator or Global Administrator) and, for --workspace-id, assign
# Azure roles on the workspace (Owner, User Access Administrator or Role Based Access Control Administrator).
#
# Usage:
#   infra/grant-graph-permissions.sh --principal-id <object id of the responder identity>
#       [--features <comma-separated>]   (default: containment,approvals,lifecycle)
#       [--workspace-id <ARM id of a Sentinel Log Analytics workspace>]   (repeatable)
#       [--apply]
#   infra/grant-graph-permissions.sh --plan-only [--features ...]   print "<permission>\t<why>" lines, nothing else
#                                                                  on stdout (notes go to stderr); no Azure calls
#   infra/grant-graph-permissions.sh --emit-json                    the table as JSON (infra/graph-permissions.json)
#
# Features:
#   containment                 resolve, disable and confirm compromised agents; revoke agent users' sessions
#   approvals                   separation of duties: sponsors, owners, approver groups (APPROVAL_SIGNING_KEY set)
#   lifecycle                   expiry sweep and drift check over the agent inventory
#   lifecycle-delete            delete agents after the grace period (LIFECYCLE_DELETE_ENABLED=true)
#   lifecycle-expiry-attribute  end dates from a custom security attribute (LIFECYCLE_EXPIRY_ATTRIBUTE set)
#   mail                        approval and lifecycle mail (APPROVAL_MAIL_SENDER set)
#   sp-disable-owned            OPT-IN: disable classic service principals the responder identity owns
#   sp-disable-any              OPT-IN: disable ANY classic service principal (Application.ReadWrite.All)
#
# The table below is the single source of the permissions: infra/graph-permissions.json is generated from it
# (`infra/grant-graph-permissions.sh --emit-json > infra/graph-permissions.json`), and the unit tests check that
# the JSON, the app's own table (shared/permissions/graph-permission-table.ts) and Graph's documented permission
# for every call listed here (dev/simulator/graph-permissions.ts) agree. Sources: Graph API reference permission
# tables, with the corrections in the project's Graph API facts (agent identity sponsors, blueprint principals).

set -euo pipefail

if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 4))); then
  echo "error: bash 4.4 or later is required (Azure Cloud Shell has it; on macOS: brew install bash)" >&2
  exit 2
fi

GRAPH_APP_ID='00000003-0000-0000-c000-000000000000'
SENTINEL_RESPONDER_ROLE_ID='3e150937-b8fe-4cfb-8069-0eaf05ecd056' # Microsoft Sentinel Responder (built-in)
LOG_ANALYTICS_READER_ROLE_ID='73c42c96-874c-492b-b04d-ab87d138a893' # Log Analytics Reader (built-in)
GRAPH_URL="${GRAPH_URL:-https://graph.microsoft.com}"

# feature | permission | why | calls (';'-separated, as in the Graph API reference)
PERMISSION_TABLE=$(cat <<'TABLE'
containment|Directory.Read.All|Resolve every target object id to its kind in one call: directoryObjects/getByIds documents Directory.Read.All as its only application permission.|POST /directoryObjects/getByIds
containment|Application.Read.All|Read service principals: the appId lookup, the first-party guardrail (appOwnerOrganizationId) and the current accountEnabled.|GET /servicePrincipals(appId='{appId}');GET /servicePrincipals/{id}
containment|User.Read.All|Resolve targets named by user principal name.|GET /users/{id}
containment|AgentIdentity.EnableDisable.All|Disable a compromised agent identity, and re-enable it after an approved release.|PATCH /servicePrincipals/{id}/microsoft.graph.agentIdentity
containment|AgentIdentityBlueprintPrincipal.EnableDisable.All|Disable an agent blueprint principal (which disables every agent of the blueprint); the responder does this only after approval.|PATCH /servicePrincipals/{id}/microsoft.graph.agentIdentityBlueprintPrincipal
containment|IdentityRiskyAgent.ReadWrite.All|Confirm agent identities, blueprint principals and agent users compromised, or dismiss their risk on release (beta API).|POST /identityProtection/riskyAgents/confirmCompromised;POST /identityProtection/riskyAgents/dismiss
containment|IdentityRiskyServicePrincipal.ReadWrite.All|Confirm classic service principals compromised, or dismiss their risk on release (needs Workload Identities Premium).|POST /identityProtection/riskyServicePrincipals/confirmCompromised;POST /identityProtection/riskyServicePrincipals/dismiss
containment|IdentityRiskyUser.ReadWrite.All|Confirm users compromised, or dismiss their risk on release (needs Entra ID P2; people only with CONTAIN_HUMAN_USERS=true).|POST /identityProtection/riskyUsers/confirmCompromised;POST /identityProtection/riskyUsers/dismiss
containment|User.RevokeSessions.All|Revoke the sign-in sessions of agent users (and of people with CONTAIN_HUMAN_USERS=true).|POST /users/{id}/revokeSignInSessions
approvals|Directory.Read.All|Name the approvers and resolve approver ids to users or groups (directoryObjects/getByIds).|POST /directoryObjects/getByIds
approvals|User.Read.All|Half of checkMemberGroups for a user (User.Read.All and GroupMember.Read.All), and the sponsors of agent users, who may not approve.|POST /users/{id}/checkMemberGroups;GET /users/{id}/sponsors
approvals|GroupMember.Read.All|The other half of checkMemberGroups, for approver groups; it also covers the transitive members of sponsor groups (least privileged there: GroupMember.ReadBasic.All, which it includes).|POST /users/{id}/checkMemberGroups;GET /groups/{id}/transitiveMembers
approvals|AgentIdentity.ReadWrite.All|List an agent identity's sponsors, who may not approve its release. Graph documents no read-only permission for this call; without it every sponsor read is refused and separation of duties fails closed (nobody can decide).|GET /servicePrincipals/{id}/microsoft.graph.agentIdentity/sponsors
approvals|Application.Read.All|Read the owners of service principals and the sponsors of blueprint principals, who may not approve.|GET /servicePrincipals/{id}/owners;GET /servicePrincipals/{id}/microsoft.graph.agentIdentityBlueprintPrincipal/sponsors
lifecycle|AgentIdentity.Read.All|List agent identities for the expiry sweep.|GET /servicePrincipals/microsoft.graph.agentIdentity
lifecycle|AgentIdentityBlueprintPrincipal.Read.All|List blueprint principals for the expiry sweep (this list documents only AgentIdentityBlueprintPrincipal.Read.All; Application.Read.All is not accepted).|GET /servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal
lifecycle|Application.Read.All|List classic service principals tagged as agents, read owners and blueprint principal sponsors to warn them, and read accountEnabled for the drift check.|GET /servicePrincipals;GET /servicePrincipals/{id};GET /servicePrincipals/{id}/owners;GET /servicePrincipals/{id}/microsoft.graph.agentIdentityBlueprintPrincipal/sponsors
lifecycle|AgentIdentity.ReadWrite.All|Read agent identities' sponsors to warn them before the end date and to find orphaned agents (no read-only permission is documented for this call).|GET /servicePrincipals/{id}/microsoft.graph.agentIdentity/sponsors
lifecycle|Directory.Read.All|Resolve sponsors' and owners' mail addresses in one call (directoryObjects/getByIds).|POST /directoryObjects/getByIds
lifecycle|AgentIdentity.EnableDisable.All|Disable expired agent identities, and re-disable contained ones found re-enabled without approval (drift).|PATCH /servicePrincipals/{id}/microsoft.graph.agentIdentity
lifecycle|AgentIdentityBlueprintPrincipal.EnableDisable.All|Disable an expired blueprint principal after approval.|PATCH /servicePrincipals/{id}/microsoft.graph.agentIdentityBlueprintPrincipal
lifecycle-delete|AgentIdentity.DeleteRestore.All|Delete agent identities after the grace period (restorable for 30 days).|DELETE /servicePrincipals/{id}/microsoft.graph.agentIdentity
lifecycle-delete|AgentIdentityBlueprintPrincipal.DeleteRestore.All|Delete blueprint principals after the grace period, after approval (restorable for 30 days).|DELETE /servicePrincipals/{id}/microsoft.graph.agentIdentityBlueprintPrincipal
lifecycle-expiry-attribute|CustomSecAttributeAssignment.Read.All|Read an agent's end date from a custom security attribute (LIFECYCLE_EXPIRY_ATTRIBUTE).|GET /servicePrincipals/{id}
mail|Mail.Send|Send approval and lifecycle mail from APPROVAL_MAIL_SENDER. Unscoped it can send as any mailbox: limit it to that mailbox with Exchange RBAC for Applications.|POST /users/{id}/sendMail
sp-disable-owned|Application.ReadWrite.OwnedBy|Disable (and with lifecycle-delete, delete) classic service principals the responder identity owns, and only those. It also lets the identity create application registrations.|PATCH /servicePrincipals/{id};DELETE /servicePrincipals/{id}
sp-disable-any|Application.ReadWrite.All|Disable (and with lifecycle-delete, delete) any classic service principal. Graph documents nothing narrower for a service principal the caller does not own, and this permission can change or add credentials to every application in the tenant.|PATCH /servicePrincipals/{id};DELETE /servicePrincipals/{id}
TABLE
)

KNOWN_FEATURES='containment approvals lifecycle lifecycle-delete lifecycle-expiry-attribute mail sp-disable-owned sp-disable-any'
DEFAULT_FEATURES='containment,approvals,lifecycle'

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "error: $*" >&2; exit 2; }

json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '%s' "$s"
}

emit_json() {
  local first=1 feature permission why calls call sep
  printf '[\n'
  while IFS='|' read -r feature permission why calls; do
    [[ -z "$feature" ]] && continue
    [[ $first -eq 1 ]] || printf ',\n'
    first=0
    printf '  {\n    "feature": "%s",\n    "permission": "%s",\n    "why": "%s",\n    "calls": [' \
      "$(json_escape "$feature")" "$(json_escape "$permission")" "$(json_escape "$why")"
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
FEATURES="$DEFAULT_FEATURES"
EXTRA_FEATURES=''
WORKSPACE_IDS=()
APPLY=0
PLAN_ONLY=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --principal-id) PRINCIPAL_ID=${2:-}; shift 2 ;;
    --features) FEATURES=${2:-}; shift 2 ;;
    # Earlier spellings of three features, kept so documented commands keep working.
    --with-delete) EXTRA_FEATURES+=',lifecycle-delete'; shift ;;
    --with-expiry-attribute) EXTRA_FEATURES+=',lifecycle-expiry-attribute'; shift ;;
    --sp-disable)
      case "${2:-}" in
        owned) EXTRA_FEATURES+=',sp-disable-owned' ;;
        all | any) EXTRA_FEATURES+=',sp-disable-any' ;;
        none) ;;
        *) die "--sp-disable must be none, owned or any" ;;
      esac
      shift 2 ;;
    --workspace-id) WORKSPACE_IDS+=("${2:-}"); shift 2 ;;
    --apply) APPLY=1; shift ;;
    --plan-only) PLAN_ONLY=1; shift ;;
    --emit-json) emit_json; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

FEATURES="${FEATURES}${EXTRA_FEATURES}"
IFS=',' read -r -a FEATURE_LIST <<<"$FEATURES"
SELECTED_FEATURES=','
for f in "${FEATURE_LIST[@]}"; do
  f=${f// /}
  [[ -z "$f" ]] && continue
  [[ " $KNOWN_FEATURES " == *" $f "* ]] || die "unknown feature '$f' (known: $KNOWN_FEATURES)"
  SELECTED_FEATURES+="$f,"
done
has_feature() { [[ "$SELECTED_FEATURES" == *",$1,"* ]]; }

GUID_RE='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
if [[ $PLAN_ONLY -eq 0 ]]; then
  [[ "$PRINCIPAL_ID" =~ $GUID_RE ]] || die "--principal-id must be the identity's object id (the principalId output of main.bicep)"
fi
for ws in "${WORKSPACE_IDS[@]}"; do
  [[ "$ws" =~ ^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.OperationalInsights/workspaces/[^/]+$ ]] \
    || die "--workspace-id must be a Log Analytics workspace resource id, got '$ws'"
done

# Selected permissions, in table order, each once (with the first reason that selected it).
SELECTED=()
declare -A WHY=()
while IFS='|' read -r feature permission why _calls; do
  [[ -z "$feature" ]] && continue
  has_feature "$feature" || continue
  if [[ -z "${WHY[$permission]:-}" ]]; then
    SELECTED+=("$permission")
    WHY[$permission]="[$feature] $why"
  fi
done <<<"$PERMISSION_TABLE"

# The trade-offs a person must see before granting: printed on stderr so --plan-only's stdout stays a plain list.
print_notes() {
  if has_feature sp-disable-any; then
    cat >&2 <<'NOTE'
NOTE sp-disable-any grants Application.ReadWrite.All, because Graph's "Update servicePrincipal" page documents
     Application.ReadWrite.OwnedBy (service principals the caller owns) and, beyond that, only
     Application.ReadWrite.All / Directory.ReadWrite.All. With it the responder can disable any classic service
     principal, but whoever holds its identity can also change, or add credentials to, every application in the
     tenant. Agent identities and blueprint principals never need it: they have their own EnableDisable permissions.
NOTE
  elif has_feature sp-disable-owned; then
    cat >&2 <<'NOTE'
NOTE sp-disable-owned grants Application.ReadWrite.OwnedBy: the responder disables only classic service principals
     it owns (make it an owner of each one it must be able to contain: az ad sp owner add). It also lets the
     identity create application registrations. Other classic service principals are handled as without either.
NOTE
  else
    cat >&2 <<'NOTE'
NOTE classic (non-agent) service principals are NOT disabled with these features: Graph documents no permission
     narrower than Application.ReadWrite.All for disabling a service principal the responder does not own. The
     responder still confirms them compromised (risk high, so a Conditional Access policy for workload identities
     that blocks high-risk service principals stops new tokens; needs Workload Identities Premium), and the disable
     step fails with Authorization_RequestDenied and a ticket for a person. Opt in with sp-disable-owned (only
     service principals the responder owns) or sp-disable-any (Application.ReadWrite.All, printed with its risk).
NOTE
  fi
  if has_feature approvals || has_feature lifecycle; then
    cat >&2 <<'NOTE'
NOTE AgentIdentity.ReadWrite.All is granted only because Graph documents it as the sole permission for listing an
     agent identity's sponsors (approvals need them for separation of duties; lifecycle to warn them).
NOTE
  fi
}

if [[ $PLAN_ONLY -eq 1 ]]; then
  for p in "${SELECTED[@]}"; do printf '%s\t%s\n' "$p" "${WHY[$p]}"; done
  print_notes
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
echo "   features: ${SELECTED_FEATURES:1:-1}"
print_notes

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
# Azure roles on Sentinel workspaces the Bicep deployment could not reach (it grants both itself when it can):
# Microsoft Sentinel Responder (incident re-read, comments) and Log Analytics Reader (alert re-read through the
# Log Analytics query API).
# ---------------------------------------------------------------------------------------------------------------

assign_role() {
  local ws=$1 role_id=$2 role_name=$3 existing
  existing=$(az role assignment list --assignee "$PRINCIPAL_ID" --role "$role_id" --scope "$ws" \
    --query 'length(@)' -o tsv 2>/dev/null || echo 0)
  if [[ "$existing" != '0' ]]; then
    echo "== $role_name on $ws: ok (already assigned)"
  elif [[ $APPLY -eq 1 ]]; then
    if az role assignment create --assignee-object-id "$PRINCIPAL_ID" --assignee-principal-type ServicePrincipal \
      --role "$role_id" --scope "$ws" -o none; then
      echo "== $role_name on $ws: assigned"
    else
      echo "== $role_name on $ws: FAILED" >&2
      failures=$((failures + 1))
    fi
  else
    echo "== $role_name on $ws: would assign"
  fi
}

for ws in "${WORKSPACE_IDS[@]}"; do
  assign_role "$ws" "$SENTINEL_RESPONDER_ROLE_ID" 'Microsoft Sentinel Responder'
  assign_role "$ws" "$LOG_ANALYTICS_READER_ROLE_ID" 'Log Analytics Reader'
done

if [[ $failures -gt 0 ]]; then
  echo "$failures step(s) failed" >&2
  exit 1
fi
[[ $APPLY -eq 1 ]] || echo "Dry run complete. Re-run with --apply to make these changes."
