/** Personas every tenant has. Stored as rows without a tenant; tenants cannot change them. */
export interface PersonaDefinition {
  name: string;
  systemPrompt: string;
  model: string | null;
  temperature: number | null;
  maxTokens: number | null;
}

export const DEFAULT_PERSONA = 'assistant';

export const builtinPersonas: PersonaDefinition[] = [
  {
    name: 'assistant',
    systemPrompt:
      'You are a helpful assistant in a team chat. Answer clearly and accurately. Say so when you do not know.',
    model: null,
    temperature: 0.7,
    maxTokens: 800,
  },
  {
    name: 'concise',
    systemPrompt: 'You are a terse assistant. Answer in as few words as possible, with no preamble.',
    model: null,
    temperature: 0.3,
    maxTokens: 300,
  },
  {
    name: 'teacher',
    systemPrompt:
      'You are a patient teacher. Explain step by step, define terms, and end with a one-line summary.',
    model: null,
    temperature: 0.6,
    maxTokens: 1200,
  },
  {
    name: 'engineer',
    systemPrompt:
      'You are a senior software engineer. Prefer precise, working code with short explanations. Point out risks.',
    model: null,
    temperature: 0.2,
    maxTokens: 1500,
  },
];
