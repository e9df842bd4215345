#!/usr/bin/env bash
# Creates the approval signing key in Key Vault ONCE, and never replaces it: a new key would void every approval link
# in flight. Run by the azd postprovision hook; safe to run again.
#
# Why here and not in main.bicep: ARM has no "create if absent". A secret resource in the template is written on every
# deployment (a redeploy would regenerate the key), and Bicep cannot test whether a secret exists (an `existing`
# reference to a missing secret fails the deployment instead of branching). A deployment script could test it, but
# needs a storage account with shared-key access (ours has it off) and a container instance per deployment. So the
# template only references the secret, and this script creates it through ARM (Contributor on the vault suffices: no
# data-plane role) when, and only when, ARM answers that it does not exist. Any other answer stops with an error.
#
# Usage: infra/hooks/ensure-signing-key.sh <key vault resource id> [<function app name> <resource group>]
set -euo pipefail

vault_id=${1:?key vault resource id}
app=${2:-}
rg=${3:-}
api='api-version=2023-07-01'
secret_url="https://management.azure.com${vault_id}/secrets/APPROVAL-SIGNING-KEY?${api}"

err=$(mktemp)
trap 'rm -f "$err"' EXIT
if az rest --method get --uri "$secret_url" --output none 2>"$err"; then
  echo "signing key: APPROVAL-SIGNING-KEY exists in the vault; kept (rotate it by hand: README, Rotating the signing key)."
  exit 0
fi
if ! grep -qiE 'SecretNotFound|\(NotFound\)|Not Found|ResourceNotFound' "$err"; then
  echo "error: could not tell whether APPROVAL-SIGNING-KEY exists, so it was NOT created:" >&2
  cat "$err" >&2
  exit 1
fi

command -v openssl >/dev/null || { echo "error: openssl is required to generate the key" >&2; exit 1; }
body=$(mktemp)
trap 'rm -f "$err" "$body"' EXIT
chmod 600 "$body"
# 48 random bytes, base64: the app needs at least 32 bytes. The value goes through a private temp file, never argv.
printf '{"properties":{"value":"%s","contentType":"text/plain","attributes":{"enabled":true}}}' "$(openssl rand -base64 48)" >"$body"
az rest --method put --uri "$secret_url" --headers 'Content-Type=application/json' --body "@$body" --output none
echo "signing key: APPROVAL-SIGNING-KEY created."

# The app's setting already references the secret; App Service re-reads Key Vault references on a configuration
# change, so write the same reference again to have it picked up now rather than within 24 hours.
if [[ -n "$app" && -n "$rg" ]]; then
  ref=$(az functionapp config appsettings list -g "$rg" -n "$app" --query "[?name=='APPROVAL_SIGNING_KEY'].value | [0]" -o tsv)
  if [[ "$ref" == @Microsoft.KeyVault* ]]; then
    az functionapp config appsettings set -g "$rg" -n "$app" --settings "APPROVAL_SIGNING_KEY=$ref" --output none
    echo "signing key: app settings refreshed so the reference resolves."
  fi
fi
