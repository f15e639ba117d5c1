/**
 * Reading the Graph beta SDK's generated models: what a type's serializer writes is what the
 * SDK declares of the type (its properties, in order, with the writer method and serializer
 * of each). Used by the tests that check this service's property tables against the SDK.
 */
import type { SerializationWriter } from "@microsoft/kiota-abstractions"

/** A generated model's `serialize…` function. */
export type Serialize = (writer: SerializationWriter, value?: object | null, isSerializingDerivedType?: boolean) => void

/** One call a serializer makes on its writer: the method, the property's name and (for objects) its serializer. */
export interface Call {
  readonly method: string
  readonly name: unknown
  readonly serializer: unknown
}

/** The writer calls a serializer makes for an empty value: every property it declares, in order. */
export const calls = (serialize: Serialize): ReadonlyArray<Call> => {
  const out: Array<Call> = []
  const writer = new Proxy({}, {
    get: (_, method) => (...args: Array<unknown>) => {
      out.push({ method: String(method), name: args[0], serializer: args[2] })
    }
  }) as SerializationWriter
  serialize(writer, {}, false)
  return out
}

/** An entity type's serializer starts as `serializeEntity` does: `id`, `@odata.type`, the additional data. */
export const isEntity = (serialize: unknown): boolean => {
  if (typeof serialize !== "function") return false
  const c = calls(serialize as Serialize)
  return c[0]?.name === "id" && c[1]?.name === "@odata.type" && c[2]?.method === "writeAdditionalData"
}
