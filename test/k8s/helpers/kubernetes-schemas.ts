// Offline validation of built-in Kubernetes objects in two passes:
// 1. the OpenAPI schemas shipped by `kubernetes-models` (types, enums, required fields), and
// 2. unknown fields, which those schemas allow but `kubectl apply` (server-side strict field
//    validation) rejects. The field names come from the package's TypeScript declarations,
//    which are generated from the same OpenAPI document, read with the TypeScript checker.
import path from 'node:path'

import ts from 'typescript'

import { REPO_ROOT, isDict, type K8sObject } from './manifests.js'

const MODELS_DIR = path.join(REPO_ROOT, 'node_modules/kubernetes-models')

interface Model {
  validate(): void
}
type ModelClass = new (data: unknown) => Model

/** `apps/v1` + `Deployment` -> `apps/v1/Deployment`; the core group has no prefix. */
function modulePath(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`
}

/** Schema problems of one object; an unknown apiVersion/kind is itself a problem. */
export async function schemaProblems(object: K8sObject): Promise<string[]> {
  const specifier = `kubernetes-models/${modulePath(object.apiVersion, object.kind)}`
  let loaded: unknown
  try {
    loaded = await import(specifier)
  } catch {
    return [`no Kubernetes schema for ${object.apiVersion} ${object.kind}`]
  }

  const ModelCtor = isDict(loaded) ? loaded[object.kind] : undefined
  if (typeof ModelCtor !== 'function') {
    return [`kubernetes-models exports no ${object.kind} from ${specifier}`]
  }

  try {
    new (ModelCtor as ModelClass)(apiServerView(object)).validate()
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)]
  }

  return []
}

/** kustomize wraps long base64 values over lines; the API server's decoder skips newlines. */
function apiServerView(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || !isDict(object.data)) {
    return object
  }

  const data = Object.fromEntries(
    Object.entries(object.data).map(([k, v]) => [
      k,
      typeof v === 'string' ? v.replace(/\s/g, '') : v,
    ]),
  )

  return { ...object, data }
}

/** Reads the declaration of I<Kind> for each kind it is asked about, once per test run. */
export class FieldChecker {
  readonly #checker: ts.TypeChecker
  readonly #program: ts.Program
  readonly #roots = new Map<string, ts.Type>()

  constructor(objects: K8sObject[]) {
    const files = [...new Set(objects.map((o) => this.#declarationFile(o)))]
    this.#program = ts.createProgram(files, {
      noEmit: true,
      skipLibCheck: true,
      types: [],
      moduleResolution: ts.ModuleResolutionKind.Node10,
    })
    this.#checker = this.#program.getTypeChecker()
  }

  #declarationFile(object: K8sObject): string {
    return path.join(MODELS_DIR, `${modulePath(object.apiVersion, object.kind)}.d.ts`)
  }

  #rootType(object: K8sObject): ts.Type | undefined {
    const file = this.#declarationFile(object)
    const cached = this.#roots.get(file)
    if (cached !== undefined) {
      return cached
    }

    const source = this.#program.getSourceFile(file)
    const moduleSymbol =
      source === undefined ? undefined : this.#checker.getSymbolAtLocation(source)
    const exported =
      moduleSymbol === undefined ? [] : this.#checker.getExportsOfModule(moduleSymbol)
    const symbol = exported.find((s) => s.name === `I${object.kind}`)
    if (symbol === undefined) {
      return undefined
    }

    const type = this.#checker.getDeclaredTypeOfSymbol(symbol)
    this.#roots.set(file, type)

    return type
  }

  /** Paths of fields the Kubernetes API does not know, such as a misspelt securityContext key. */
  unknownFields(object: K8sObject): string[] {
    const root = this.#rootType(object)
    if (root === undefined) {
      return [`no type declaration for ${object.apiVersion} ${object.kind}`]
    }

    const problems: string[] = []
    this.#walk(object, root, '', problems)

    return problems
  }

  #walk(value: unknown, declared: ts.Type, at: string, problems: string[]): void {
    if (value === null || value === undefined) {
      return
    }

    const type = this.#checker.getNonNullableType(declared)
    const members = type.isUnion() ? type.types : [type]
    if (Array.isArray(value)) {
      const arrayType = members.find((m) => this.#checker.isArrayType(m))
      const element =
        arrayType === undefined
          ? undefined
          : this.#checker.getTypeArguments(arrayType as ts.TypeReference)[0]
      if (element !== undefined) {
        value.forEach((item, index) => this.#walk(item, element, `${at}[${index}]`, problems))
      }

      return
    }
    if (!isDict(value)) {
      return
    }

    const objectTypes = members.filter((m) => (m.flags & ts.TypeFlags.Object) !== 0)
    const indexed = objectTypes
      .map((m) => this.#checker.getIndexInfoOfType(m, ts.IndexKind.String))
      .find((info) => info !== undefined)
    if (indexed !== undefined) {
      // A map such as labels: any key goes, the values still have a shape.
      for (const [key, item] of Object.entries(value)) {
        this.#walk(item, indexed.type, `${at}.${key}`, problems)
      }

      return
    }

    for (const [key, item] of Object.entries(value)) {
      const property = objectTypes
        .map((m) => this.#checker.getPropertyOfType(m, key))
        .find((p) => p !== undefined)
      if (property === undefined) {
        if (objectTypes.length > 0) {
          problems.push(`${at}.${key}: unknown field`)
        }
        continue
      }

      this.#walk(item, this.#checker.getTypeOfSymbol(property), `${at}.${key}`, problems)
    }
  }
}
