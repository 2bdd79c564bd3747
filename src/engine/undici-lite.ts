// Only the parts of undici the probe uses: its index also loads fetch, WebSocket, caches and mocks,
// which cost start-up time on every run.
import type * as Undici from 'undici'
import connect from 'undici/lib/api/api-connect.js'
import buildConnectorImpl from 'undici/lib/core/connect.js'
import symbols from 'undici/lib/core/symbols.js'
import AgentImpl from 'undici/lib/dispatcher/agent.js'
import DispatcherImpl from 'undici/lib/dispatcher/dispatcher.js'
import EnvHttpProxyAgentImpl from 'undici/lib/dispatcher/env-http-proxy-agent.js'
import PoolImpl from 'undici/lib/dispatcher/pool.js'
import ProxyAgentImpl from 'undici/lib/dispatcher/proxy-agent.js'

// Requests go through dispatch() (dispatch.ts); ProxyAgent's tunnels through connect().
Object.assign((DispatcherImpl as typeof Undici.Dispatcher).prototype, { connect })

export const Agent = AgentImpl as typeof Undici.Agent
export const ProxyAgent = ProxyAgentImpl as typeof Undici.ProxyAgent
export const Pool = PoolImpl as typeof Undici.Pool
export const EnvHttpProxyAgent = EnvHttpProxyAgentImpl as typeof Undici.EnvHttpProxyAgent
export const buildConnector = buildConnectorImpl as typeof Undici.buildConnector
export type { Dispatcher } from 'undici'
export type Connector = Undici.buildConnector.connector
/** The key under which undici keeps an HTTP/1 socket's parser. */
export const kParser = (symbols as { kParser: symbol }).kParser
