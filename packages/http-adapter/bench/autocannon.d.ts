declare module "autocannon" {
  const autocannon: (options: Record<string, unknown>, done: (err: unknown, result: any) => void) => unknown
  export default autocannon
}
