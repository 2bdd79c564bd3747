declare module 'undici/lib/*' {
  const value: unknown
  export default value
}
