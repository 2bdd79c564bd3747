import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestCertificate {
  key: string
  cert: string
}

const made = new Map<string, TestCertificate>()

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made with the openssl
 * CLI in a temporary folder; `expired` makes one that expired in 2020, `host` one
 * for that DNS name alone.
 */
export function selfSignedCertificate(
  options: { expired?: boolean; host?: string } = {},
): TestCertificate {
  const kind = `${options.expired ? 'expired' : 'valid'} ${options.host ?? ''}`
  const cached = made.get(kind)
  if (cached) return cached
  const dir = mkdtempSync(join(tmpdir(), 'sse-probe-tls-'))
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  const subject = options.host
    ? ['-subj', `/CN=${options.host}`, '-addext', `subjectAltName=DNS:${options.host}`]
    : ['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']
  if (options.expired) {
    // openssl 3.0's x509 cannot date a certificate in the past; its `ca` command can.
    const csr = join(dir, 'req.csr')
    execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, ...subject],
      { stdio: 'ignore' },
    )
    writeFileSync(join(dir, 'index.txt'), '')
    writeFileSync(join(dir, 'serial'), '01\n')
    writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG)
    const ca = [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-selfsign',
      '-keyfile',
      key,
      '-in',
      csr,
      '-out',
      cert,
      '-notext',
    ]
    execFileSync(
      'openssl',
      [...ca, '-startdate', '20200101000000Z', '-enddate', '20200102000000Z'],
      { cwd: dir, stdio: 'ignore' },
    )
  } else {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        ...subject,
      ],
      { stdio: 'ignore' },
    )
  }
  const pair = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') }
  made.set(kind, pair)
  return pair
}

const CA_CONFIG = `[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
copy_extensions = copy
[anything]
commonName = supplied
`
