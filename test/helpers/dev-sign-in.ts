/**
 * Signs in through the local host's development Easy Auth emulation and returns the session cookie, so a
 * test can call the app as that principal (the host then injects `x-ms-client-principal`, as Easy Auth does).
 */
export async function devSignIn(baseUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${baseUrl}/.auth/login/dev`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ userId, post_login_redirect_uri: '/' }).toString(),
    redirect: 'manual',
  });
  const setCookie = res.headers.get('set-cookie');
  if (!setCookie) {
    throw new Error(`dev sign-in failed: ${res.status} ${await res.text()}`);
  }
  return setCookie.split(';')[0] ?? '';
}
