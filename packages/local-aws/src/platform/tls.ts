// TLS like the real thing: at start local-aws makes (or, with a CA dir that already holds one,
// reuses) a certificate authority, writes its certificate to <caDir>/ca.crt, and serves HTTPS
// with a leaf certificate it signs for localhost, 127.0.0.1 and ::1. Trust the CA file
// (curl --cacert, NODE_EXTRA_CA_CERTS, /etc/containers/certs.d/<host:port>/ca.crt,
// skopeo --dest-cert-dir) and clients verify the server like any other.
//
// The CA folder holds ca.crt alone, so it can be handed to tools as a certs.d-style folder: the
// containers libraries (skopeo, podman) read every *.key there as a client key and refuse one
// without its certificate ("missing client certificate ca.cert for key ca.key"). The CA's key
// lives in a private sibling folder, <caDir>-private/ca.key.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  caCertPath: string;
  /** The CA's private key, outside the CA folder. */
  caKeyPath: string;
  caCertPem: string;
  /** The server's leaf certificate and key, PEM. */
  cert: string;
  key: string;
}

interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

// RSA key generation is the slow part; Node's native generator is fast, but tests start many
// servers in one process, so keys (never certificates) are reused within a process.
let cachedLeafKey: KeyPair | undefined;
let cachedCaKey: KeyPair | undefined;

function newKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * cert.sign(key) with the RSA operation done by Node's crypto: forge's pure-JS big integers are
 * fast enough in plain Node but take seconds per signature inside Jest's VM sandbox.
 */
function signCertificate(cert: forge.pki.Certificate, privateKeyPem: string): void {
  const oid = forge.pki.oids.sha256WithRSAEncryption!;
  cert.signatureOid = oid;
  cert.siginfo.algorithmOid = oid;
  const pki = forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 };
  const tbs = pki.getTBSCertificate(cert);
  const der = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  const mutable = cert as unknown as { tbsCertificate: forge.asn1.Asn1; md: forge.md.MessageDigest };
  mutable.tbsCertificate = tbs;
  mutable.md = forge.md.sha256.create();
  cert.signature = sign('sha256', der, privateKeyPem).toString('binary');
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive
  return bytes.toString('hex');
}

function createCaCert(keys: KeyPair): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600_000);
  cert.validity.notAfter = new Date(now + 10 * 365 * 24 * 3600_000);
  const subject = [
    { name: 'commonName', value: `local-aws CA ${new Date(now).toISOString()} ${serial().slice(0, 8)}` },
    { name: 'organizationName', value: 'aws-containers local-aws' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCertificate(cert, keys.privateKeyPem);
  return forge.pki.certificateToPem(cert);
}

function createLeafCert(caCertPem: string, caKeyPem: string, keys: KeyPair): string {
  const ca = forge.pki.certificateFromPem(caCertPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600_000);
  cert.validity.notAfter = new Date(now + 365 * 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signCertificate(cert, caKeyPem);
  return forge.pki.certificateToPem(cert);
}

/** Where the CA's key is kept: a private folder beside the CA folder, never inside it. */
export function caKeyDir(caDir: string): string {
  return join(dirname(caDir), `${basename(caDir)}-private`);
}

/** Moves a key an earlier local-aws left beside ca.crt into the private folder. */
function moveStrayKey(stray: string, target: string): void {
  if (!existsSync(stray)) return;
  if (existsSync(target)) {
    // Already moved once (a copy was restored?): drop the stray copy only if it is the same key.
    if (readFileSync(stray, 'utf8') === readFileSync(target, 'utf8')) rmSync(stray);
    return;
  }
  try {
    renameSync(stray, target);
  } catch {
    copyFileSync(stray, target);
    rmSync(stray);
  }
}

/**
 * The CA (created, or reused when caDir holds ca.crt and its key is in the private folder) and a
 * fresh leaf certificate for this start.
 */
export function prepareTls(caDir: string): TlsMaterial {
  mkdirSync(caDir, { recursive: true });
  const keyDir = caKeyDir(caDir);
  mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const caCertPath = join(caDir, 'ca.crt');
  const caKeyPath = join(keyDir, 'ca.key');
  moveStrayKey(join(caDir, 'ca.key'), caKeyPath);
  let caCertPem: string;
  let caKeyPem: string;
  if (existsSync(caCertPath) && existsSync(caKeyPath)) {
    caCertPem = readFileSync(caCertPath, 'utf8');
    caKeyPem = readFileSync(caKeyPath, 'utf8');
  } else {
    cachedCaKey ??= newKeyPair();
    caKeyPem = cachedCaKey.privateKeyPem;
    caCertPem = createCaCert(cachedCaKey);
    writeFileSync(caKeyPath, caKeyPem, { mode: 0o600 });
    writeFileSync(caCertPath, caCertPem);
  }
  cachedLeafKey ??= newKeyPair();
  const cert = createLeafCert(caCertPem, caKeyPem, cachedLeafKey);
  return { caCertPath, caKeyPath, caCertPem, cert, key: cachedLeafKey.privateKeyPem };
}

/**
 * Another leaf certificate for localhost, 127.0.0.1 and ::1 signed by the CA: for a loopback
 * stand-in (a test's OIDC issuer) that local-aws should trust as it trusts itself.
 */
export function leafCertificate(tls: TlsMaterial): { cert: string; key: string } {
  const caKeyPem = readFileSync(tls.caKeyPath, 'utf8');
  cachedLeafKey ??= newKeyPair();
  return { cert: createLeafCert(tls.caCertPem, caKeyPem, cachedLeafKey), key: cachedLeafKey.privateKeyPem };
}
