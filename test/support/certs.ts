/**
 * Test certificates made with openssl: a throwaway CA, a server certificate it signs for
 * 127.0.0.1 and localhost (registries, token services), and a self-signed key pair that signs
 * bearer tokens (Distribution trusts it through `rootcertbundle`). P-256 keys, valid for a day.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { toolPath } from "./tools.ts";

export type TestCertificates = {
  /** The CA certificate (PEM): what a client must trust. */
  ca: string;
  caFile: string;
  /** The server's certificate and key files, for `http.tls` and Node's https. */
  certFile: string;
  keyFile: string;
  /** The token signer: its certificate (the registry's `rootcertbundle`) and private key. */
  signerCertFile: string;
  signerKeyFile: string;
};

/** Writes a CA, a server certificate and a token signer into `dir`. */
export function makeCertificates(dir: string): TestCertificates {
  const openssl = toolPath("openssl");
  if (!openssl) throw new Error("openssl is not installed (apt-get install openssl)");
  const file = (name: string) => path.join(dir, name);
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=dockwright test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  run("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(file("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "server.ext");
  run("req", "-x509", ...ec, "-keyout", "signer.key", "-out", "signer.crt", "-days", "1", "-subj", "/CN=dockwright test token signer");
  return {
    ca: readFileSync(file("ca.crt"), "utf8"),
    caFile: file("ca.crt"),
    certFile: file("server.crt"),
    keyFile: file("server.key"),
    signerCertFile: file("signer.crt"),
    signerKeyFile: file("signer.key"),
  };
}
