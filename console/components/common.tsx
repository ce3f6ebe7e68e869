import { type ComponentChildren, Fragment } from 'preact';

/** Shared bits of page furniture. */
export function ErrorBox({ error }: { error: Error | string | undefined }) {
  if (!error) return null;
  const text = typeof error === 'string' ? error : error.message;
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return <p class="notice">{children}</p>;
}

/** A label: value list. */
export function Facts({ rows }: { rows: Record<string, ComponentChildren> }) {
  return (
    <dl class="facts">
      {Object.entries(rows).map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

/** A form field's errors, under it (forms/fieldErrors.ts). */
export function FieldError({ errors, field }: { errors: Record<string, string[]>; field: string }) {
  const list = errors[field];
  if (!list?.length) return null;
  return (
    <p class="error field-error" role="alert" data-field={field}>
      {list.join('; ')}
    </p>
  );
}
