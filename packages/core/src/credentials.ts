/**
 * Recognizing credentials: names that usually hold one, and URLs that carry one in their user
 * information (`https://user:token@host`). Messages hide both; settings that would write a
 * credentialed URL into an image are refused (see `checkInstallerArg` and the requirements
 * resolver).
 */

/** Names of variables and settings that usually hold credentials, upper-cased with `_` for other separators. */
const secretName = /(^|_)(TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|ACCESS_KEY|PRIVATE_KEY|SECRET_KEY|CREDENTIALS?)$/;

export function looksSecret(name: string): boolean {
  return secretName.test(name.toUpperCase().replace(/[^A-Z0-9]/g, "_"));
}

/** `${NAME}`: pip (and uv) replace it with a variable of the install's environment, so it is no credential itself. */
const reference = /\$\{[A-Z0-9_]+\}/g;

/**
 * Whether the user information of a URL holds a credential: a password that is not only
 * `${VARIABLE}` references, or (except for ssh, whose login names are no secret) a user name
 * alone, which is how GitHub, GitLab and most package indexes take a token.
 */
function isCredential(scheme: string, userinfo: string): boolean {
  const literal = (text: string) => text.replace(reference, "") !== "";
  const colon = userinfo.indexOf(":");
  if (colon >= 0) return literal(userinfo.slice(colon + 1));
  return literal(userinfo) && !/ssh/i.test(scheme);
}

const authorityEnd = /[\s/?#]/;
const schemeCharacter = /[A-Za-z0-9+.-]/;

/**
 * Each credential in a URL's user information, as `[start, end)` offsets in `text`. Linear in
 * the text: a URL's authority ends at `/`, `?`, `#` or a blank, and, as pip splits it, its user
 * information at the last `@` before that.
 */
function credentialSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  for (let marker = text.indexOf("://"); marker >= 0; marker = text.indexOf("://", marker + 3)) {
    const start = marker + 3;
    let at = -1;
    for (let end = start; end < text.length && !authorityEnd.test(text[end]!); end++) if (text[end] === "@") at = end;
    if (at < 0) continue;
    let schemeStart = marker;
    while (schemeStart > 0 && schemeCharacter.test(text[schemeStart - 1]!)) schemeStart--;
    if (isCredential(text.slice(schemeStart, marker), text.slice(start, at))) spans.push([start, at]);
  }
  return spans;
}

/** Whether the text holds a URL with a credential. */
export function holdsCredential(text: string): boolean {
  return text.includes("://") && credentialSpans(text).length > 0;
}

/** The text with the user information of every credentialed URL replaced by `***`. */
export function redactCredentials(text: string): string {
  if (!text.includes("://")) return text;
  let out = "";
  let from = 0;
  for (const [start, end] of credentialSpans(text)) {
    out += `${text.slice(from, start)}***`;
    from = end;
  }
  return out + text.slice(from);
}
