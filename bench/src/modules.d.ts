// The two untyped packages the bench uses: only what it calls is typed.
declare module "autocannon" {
  const autocannon: (options: Record<string, unknown>) => Promise<unknown>
  export default autocannon
}
declare module "pg" {
  class Client {
    constructor(options: { connectionString: string })
    connect(): Promise<void>
    query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>
    end(): Promise<void>
  }
  const pg: { Client: typeof Client }
  export default pg
}
