import t from 'tap'

import { ConfigError, loadConfig } from '../../src/shared/config.js'

t.test('config should default the conversation settings', (t) => {
  t.same(loadConfig({}).conversations, {
    sessionTimeoutMinutes: 30,
    contextMaxMessages: 20,
    contextMaxTokens: 4_000,
    tokenizerEncoding: 'o200k_base',
  })
  t.end()
})

t.test('config should read the conversation settings from the environment', (t) => {
  const config = loadConfig({
    CONVERSATION_SESSION_TIMEOUT_MINUTES: '45',
    CONTEXT_MAX_MESSAGES: '50',
    CONTEXT_MAX_TOKENS: '16000',
    TOKENIZER_ENCODING: 'cl100k_base',
  })
  t.same(config.conversations, {
    sessionTimeoutMinutes: 45,
    contextMaxMessages: 50,
    contextMaxTokens: 16_000,
    tokenizerEncoding: 'cl100k_base',
  })
  t.end()
})

t.test('config should refuse an unknown encoding and impossible windows at start-up', (t) => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env)
    } catch (err) {
      return err instanceof ConfigError ? err.problems : []
    }

    return []
  }
  t.match(problems({ TOKENIZER_ENCODING: 'p50k_base' }), [
    'TOKENIZER_ENCODING must be one of o200k_base, cl100k_base, got "p50k_base"',
  ])
  t.match(problems({ CONTEXT_MAX_TOKENS: '4k' }), [/^CONTEXT_MAX_TOKENS must be a whole number/])
  t.match(problems({ CONTEXT_MAX_MESSAGES: '0' }), [/^CONTEXT_MAX_MESSAGES must be/])
  t.match(problems({ CONVERSATION_SESSION_TIMEOUT_MINUTES: '-5' }), [
    /^CONVERSATION_SESSION_TIMEOUT_MINUTES must be/,
  ])
  t.end()
})
