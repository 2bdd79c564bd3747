import {
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2'
import { listenUntilTestEnds } from './server.ts'
import { selfSignedCertificate } from './tls.ts'

/**
 * A real HTTPS server that speaks HTTP/2 (and HTTP/1.1 to clients without h2)
 * on 127.0.0.1 and an ephemeral port, with a self-signed certificate (use -k);
 * closed when the test ends.
 */
export async function startH2Server(
  handler: (req: Http2ServerRequest, res: Http2ServerResponse) => unknown,
): Promise<{ url: string; requests: Http2ServerRequest[] }> {
  const requests: Http2ServerRequest[] = []
  const sessions = new Set<ServerHttp2Session>()
  const server = createSecureServer(
    { ...selfSignedCertificate(), allowHTTP1: true },
    (req, res) => {
      requests.push(req)
      void Promise.resolve(handler(req, res))
    },
  )
  server.on('session', (session) => {
    sessions.add(session)
    session.on('close', () => sessions.delete(session))
  })
  const port = await listenUntilTestEnds(server, () => {
    for (const session of sessions) session.destroy()
  })
  return { url: `https://127.0.0.1:${port}`, requests }
}
