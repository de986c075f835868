// Chooses which messages of a session go into the assistant's context: the newest ones, whole,
// within a message count and a token budget that includes the system message. Pure: the caller
// supplies the costs, so the rule is tested without a database or a tokenizer.

export interface WindowBudget {
  maxMessages: number
  maxTokens: number
}

export interface WindowCosts<M, S extends { tokens: number }> {
  /** What a message costs in the prompt, framing included. */
  messageTokens(message: M): number
  /** The system message for exactly these messages (it describes the tasks they refer to). */
  systemMessage(window: readonly M[]): S
  /** Tokens that prime the reply, once per prompt. */
  replyPrimingTokens: number
}

export interface ContextWindow<M, S> {
  system: S
  /** Oldest first. */
  messages: M[]
  /** System message, messages and reply priming. */
  totalTokens: number
  /** True when even the newest message alone, with its system message, exceeds the budget. */
  overBudget: boolean
}

/**
 * Takes `recent` (a session's latest messages, oldest first) and drops the oldest, one at a
 * time, until the system message for what remains plus the messages plus the reply priming fit
 * `maxTokens`. The system message is rebuilt for every candidate window, since dropping a message
 * can drop the tasks it referred to. The newest message is always kept, even over budget.
 */
export function selectContextWindow<M, S extends { tokens: number }>(
  recent: readonly M[],
  budget: WindowBudget,
  costs: WindowCosts<M, S>,
): ContextWindow<M, S> {
  const candidates = recent.slice(Math.max(0, recent.length - budget.maxMessages))
  let messageTokens = candidates.reduce((sum, message) => sum + costs.messageTokens(message), 0)

  for (let start = 0; start < candidates.length; start += 1) {
    const newestOnly = start === candidates.length - 1
    // A window whose messages alone exceed the budget cannot fit: skip building its system message.
    if (messageTokens + costs.replyPrimingTokens <= budget.maxTokens || newestOnly) {
      const window = candidates.slice(start)
      const system = costs.systemMessage(window)
      const totalTokens = system.tokens + messageTokens + costs.replyPrimingTokens
      if (totalTokens <= budget.maxTokens || newestOnly) {
        return { system, messages: window, totalTokens, overBudget: totalTokens > budget.maxTokens }
      }
    }

    messageTokens -= costs.messageTokens(candidates[start] as M)
  }

  const system = costs.systemMessage([])
  const totalTokens = system.tokens + costs.replyPrimingTokens

  return { system, messages: [], totalTokens, overBudget: totalTokens > budget.maxTokens }
}
