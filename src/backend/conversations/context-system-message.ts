// The system message of the context window: the current state of every task the window refers
// to, and which task "it" means. Pure: the tasks are read by the caller just before.
import type { ConversationTaskRef } from '../../shared/db/schema.js'
import type { TaskState } from './conversation-schemas.js'

export interface ReferencingMessage {
  taskRefs: readonly ConversationTaskRef[]
}

export interface TaskContext {
  /** Referenced tasks that exist, the most recently referenced last. */
  tasks: TaskState[]
  /** The most recently referenced task: the last reference of the newest message that has one. */
  it: TaskState | null
  content: string
}

const NONE = 'No tasks are referenced in this conversation.'
// Naming "it" by its id would cost ~45 tokens (a uuid is ~30); the list order already says it.
const IT = '"it" means the last task listed above.'
const HEADER =
  'Tasks referenced in this conversation, as they are now (one JSON object per line, ' +
  'the most recently referenced last; "deleted": true means the user deleted it):'

/** Task ids in the order of their latest reference, oldest first. */
export function referencedTaskIds(messages: readonly ReferencingMessage[]): string[] {
  const order = new Set<string>()
  for (const message of messages) {
    for (const ref of message.taskRefs) {
      order.delete(ref.taskId)
      order.add(ref.taskId)
    }
  }

  return [...order]
}

export function buildTaskContext(
  messages: readonly ReferencingMessage[],
  tasksById: ReadonlyMap<string, TaskState>,
): TaskContext {
  const tasks = referencedTaskIds(messages)
    .map((id) => tasksById.get(id))
    .filter((task) => task !== undefined)
  const it = tasks[tasks.length - 1] ?? null
  if (it === null) {
    return { tasks, it, content: NONE }
  }

  // JSON keeps a title with quotes or line breaks from passing for an instruction of its own.
  const lines = tasks.map((task) => JSON.stringify(task))
  const content = [HEADER, ...lines, IT].join('\n')

  return { tasks, it, content }
}
