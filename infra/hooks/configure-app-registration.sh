#!/usr/bin/env bash
# Makes the Entra app registration (AUTH_CLIENT_ID) fit App Service Authentication on this app: the sign-in redirect
# URI, ID token issuance (sign-in without a client secret) and the Application ID URI the playbooks ask tokens for.
# Needs the deployer to own the registration. Idempotent; changes nothing that is already right.
#
# Usage: infra/hooks/configure-app-registration.sh <client id> <function app host>
set -euo pipefail

client_id=${1:?client id}
host=${2:?function app host}
redirect="https://${host}/.auth/login/aad/callback"

uris=$(az ad app show --id "$client_id" --query 'web.redirectUris' -o tsv)
if grep -qxF "$redirect" <<<"$uris"; then
  echo "app registration: redirect URI present."
else
  # --web-redirect-uris replaces the list, so pass the existing ones too.
  mapfile -t existing < <(printf '%s\n' "$uris" | sed '/^$/d')
  az ad app update --id "$client_id" --web-redirect-uris "${existing[@]}" "$redirect" --output none
  echo "app registration: added $redirect"
fi
if [[ "$(az ad app show --id "$client_id" --query 'web.implicitGrantSettings.enableIdTokenIssuance' -o tsv)" != 'true' ]]; then
  az ad app update --id "$client_id" --enable-id-token-issuance true --output none
  echo "app registration: ID token issuance on."
fi
if ! az ad app show --id "$client_id" --query 'identifierUris' -o tsv | grep -qxF "api://${client_id}"; then
  az ad app update --id "$client_id" --identifier-uris "api://${client_id}" --output none
  echo "app registration: Application ID URI api://${client_id} set."
fi
