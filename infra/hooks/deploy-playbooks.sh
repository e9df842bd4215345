#!/usr/bin/env bash
# Deploys the Sentinel playbooks (incident, alert and entity triggers) and the automation rule, and lets Sentinel run
# them. Idempotent (ARM deployments of the same templates). Prints the playbooks' managed identities as the last line:
#   PLAYBOOK_PRINCIPAL_IDS=<id>,<id>,<id>
#
# Usage: infra/hooks/deploy-playbooks.sh <intake url> <intake audience> <function app name> <function app resource group>
# Environment: SENTINEL_WORKSPACES (subscriptionId/resourceGroup/workspaceName, comma-separated; the first one's
# resource group holds the playbooks unless PLAYBOOK_RESOURCE_GROUP is set).
set -euo pipefail

intake_url=${1:?intake url}
audience=${2:?intake audience}
app=${3:?function app name}
app_rg=${4:?function app resource group}
here=$(cd "$(dirname "$0")/.." && pwd)
sentinel_sp_app_id='98785600-1bb7-4fb9-b9fa-19afe2c8a360'   # "Azure Security Insights", which runs playbooks
automation_contributor='f4c81013-99ee-4d62-a7ee-b3f1f648599a' # Microsoft Sentinel Automation Contributor

IFS=', ;' read -r -a workspaces <<<"${SENTINEL_WORKSPACES:?SENTINEL_WORKSPACES is required to deploy playbooks}"
IFS=/ read -r ws_sub ws_rg ws_name <<<"${workspaces[0]}"
pb_sub=$ws_sub
pb_rg=${PLAYBOOK_RESOURCE_GROUP:-$ws_rg}
# Content-hub metadata links a playbook to the workspace; it can only be written beside the workspace.
metadata_ws=''
[[ "$pb_rg" == "$ws_rg" ]] && metadata_ws=$ws_name

# The function key is the intake's outer gate. A new Flex app may need a moment before its host answers for keys.
key=''
for _ in 1 2 3 4 5 6 7 8; do
  key=$(az functionapp keys list -g "$app_rg" -n "$app" --query functionKeys.default -o tsv 2>/dev/null || true)
  [[ -n "$key" ]] && break
  sleep 15
done
[[ -n "$key" ]] || { echo "error: no function key yet for $app; run 'azd hooks run postprovision' after 'azd deploy'" >&2; exit 1; }

params=$(mktemp)
trap 'rm -f "$params"' EXIT
chmod 600 "$params"

ids=()
incident_id=''
for playbook in incident-trigger alert-trigger entity-trigger; do
  # Secrets go through a private parameters file, not the command line.
  printf '{"IntakeUrl":{"value":"%s"},"IntakeAudience":{"value":"%s"},"FunctionKey":{"value":"%s"},"WorkspaceName":{"value":"%s"}}' \
    "$intake_url" "$audience" "$key" "$metadata_ws" >"$params"
  out=$(az deployment group create --subscription "$pb_sub" -g "$pb_rg" -n "agent-responders-$playbook" \
    -f "$here/playbooks/$playbook.json" -p "@$params" --query properties.outputs -o json)
  principal=$(jq -r '.playbookPrincipalId.value' <<<"$out")
  resource_id=$(jq -r '.playbookResourceId.value' <<<"$out")
  echo "playbook $playbook: $resource_id (identity $principal)" >&2
  ids+=("$principal")
  [[ "$playbook" == incident-trigger ]] && incident_id=$resource_id
done

for ws in "${workspaces[@]}"; do
  IFS=/ read -r sub rg name <<<"$ws"
  az deployment group create --subscription "$sub" -g "$rg" -n agent-responders-automation-rule \
    -f "$here/playbooks/automation-rule.json" -p WorkspaceName="$name" PlaybookResourceId="$incident_id" --output none
  echo "automation rule: $name runs the incident playbook on new incidents and new alerts" >&2
done

sentinel_sp=$(az ad sp show --id "$sentinel_sp_app_id" --query id -o tsv)
scope="/subscriptions/$pb_sub/resourceGroups/$pb_rg"
if [[ "$(az role assignment list --assignee "$sentinel_sp" --role "$automation_contributor" --scope "$scope" --query 'length(@)' -o tsv)" == '0' ]]; then
  az role assignment create --assignee-object-id "$sentinel_sp" --assignee-principal-type ServicePrincipal \
    --role "$automation_contributor" --scope "$scope" --output none
  echo "Microsoft Sentinel may now run playbooks in $pb_rg" >&2
fi

(IFS=,; echo "PLAYBOOK_PRINCIPAL_IDS=${ids[*]}")
