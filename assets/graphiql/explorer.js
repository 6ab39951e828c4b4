// The gateway's explorer: GraphiQL (vendored, served by the gateway itself) plus two things a
// role-shaped API needs. "Explore as" picks whose token is in the headers; the schema — and with
// it the docs and autocompletion — is fetched again for that role, and again whenever the headers
// are edited by hand. "Compare" runs the query in the editor as two people and shows both
// answers side by side. Demo identities come from /graphiql/identities, which offers tokens only
// in dev mode; in production the picker only offers "anonymous" and your own headers.
(function () {
  'use strict';

  const h = React.createElement;
  const { useEffect, useRef, useState } = React;
  const ENDPOINT = new URL('/graphql', window.location.href).href;
  const WS_ENDPOINT = ENDPOINT.replace(/^http/, 'ws') + '/ws';
  const CUSTOM = 'custom';
  // How long headers typed by hand must stay unchanged before the schema is fetched again.
  const TYPING_PAUSE_MS = 400;

  const DEFAULT_QUERY = [
    '# Pick who you are above: the docs (book icon) and autocompletion follow the role.',
    '# "Compare" runs this query as two people side by side: what does Olivia Hart see of',
    '# her own record, and what do we see?',
    '{',
    '  customers(first: 3) { totalCount edges { node { name } } }',
    '  interaction(id: "2") {',
    '    subject',
    '    status',
    '    messages(first: 5) { edges { node { body } } }',
    '  }',
    '}',
    '',
  ].join('\n');

  /** The header editor's text for an identity. */
  function headerText(identity) {
    if (!identity || !identity.authorization) {
      return '{}';
    }
    return JSON.stringify({ Authorization: identity.authorization }, null, 2);
  }

  /** Headers parsed from the editor's text; null when it is not a JSON object. */
  function parseHeaders(text) {
    try {
      const value = JSON.parse(text && text.trim() ? text : '{}');
      return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
    } catch (_) {
      return null;
    }
  }

  /**
   * A new fetcher: GraphiQL introspects again whenever its fetcher changes, with the headers in
   * its editor; subscriptions send the same headers in `connection_init`. `onNoSchema` hears
   * why an introspection brought no schema (a gateway may allow it to employees only).
   */
  function makeFetcher(headers, onNoSchema) {
    const fetcher = GraphiQL.createFetcher({
      url: ENDPOINT,
      subscriptionUrl: WS_ENDPOINT,
      wsConnectionParams: parseHeaders(headers) || {},
    });
    return function (params, options) {
      const result = fetcher(params, options);
      if (params && params.operationName === 'IntrospectionQuery' && result && result.then) {
        result.then(function (answer) {
          if (!answer || !answer.data || !answer.data.__schema) {
            const errors = (answer && answer.errors) || [];
            onNoSchema(errors.length ? errors[0].message : 'no schema in the answer');
          }
        }, function (err) {
          onNoSchema(String(err));
        });
      }
      return result;
    };
  }

  /** Runs `query` with `headers` (an object) and returns the answer, or a description of why not. */
  async function runAs(headers, query, variablesText) {
    let variables = {};
    if (variablesText && variablesText.trim()) {
      try {
        variables = JSON.parse(variablesText);
      } catch (_) {
        return { error: 'The variables are not valid JSON.' };
      }
    }
    try {
      const response = await fetch(ENDPOINT, {
        method: 'POST',
        headers: Object.assign({ 'Content-Type': 'application/json', Accept: 'application/json' }, headers),
        body: JSON.stringify({ query: query, variables: variables }),
      });
      return { status: response.status, body: await response.json() };
    } catch (err) {
      return { error: String(err) };
    }
  }

  /** A function that keeps its identity across renders but always runs the latest `fn`: GraphiQL
   * fetches the schema again whenever `onSchemaChange` changes, so it must not change. */
  function useStable(fn) {
    const latest = useRef(fn);
    latest.current = fn;
    return useRef(function () {
      return latest.current.apply(null, arguments);
    }).current;
  }

  /** The text of GraphiQL's query editor, which may hold a tab restored from an earlier visit. */
  function editorQuery(fallback) {
    const editor = document.querySelector('.graphiql-query-editor .CodeMirror');
    return editor && editor.CodeMirror ? editor.CodeMirror.getValue() : fallback;
  }

  function label(identity) {
    return identity.role ? identity.name + ' (' + identity.role + ')' : identity.name;
  }

  function IdentitySelect(props) {
    const options = props.identities.map(function (identity) {
      return h('option', { key: identity.key, value: identity.key }, label(identity));
    });
    if (props.withCustom) {
      options.push(h('option', { key: CUSTOM, value: CUSTOM }, 'my headers (as edited)'));
    }
    return h(
      'select',
      {
        className: 'explorer-select',
        'aria-label': props.ariaLabel,
        'data-testid': props.testId,
        value: props.value,
        onChange: function (event) {
          props.onChange(event.target.value);
        },
      },
      options
    );
  }

  function Bar(props) {
    const selected = props.identities.find(function (i) {
      return i.key === props.selected;
    });
    const about = selected
      ? selected.about
      : 'Headers edited by hand: the schema follows them.';
    return h(
      'header',
      { className: 'explorer-bar' },
      h('strong', { className: 'explorer-title' }, props.config.title),
      h(
        'label',
        { className: 'explorer-field' },
        'Explore as ',
        h(IdentitySelect, {
          identities: props.identities,
          value: props.selected,
          withCustom: true,
          ariaLabel: 'Explore as',
          testId: 'explore-as',
          onChange: props.onPick,
        })
      ),
      h('span', { className: 'explorer-about', 'data-testid': 'about' }, about),
      h(
        'span',
        { className: 'explorer-schema', 'data-testid': 'schema-state' },
        props.schemaState
      ),
      h(
        'button',
        {
          type: 'button',
          className: 'explorer-button',
          'data-testid': 'compare-toggle',
          onClick: props.onToggleCompare,
        },
        props.comparing ? 'Close comparison' : 'Compare two roles'
      ),
      props.config.note ? h('span', { className: 'explorer-note' }, props.config.note) : null
    );
  }

  /** JSON indented by two spaces, but with any object or list that fits in `width` characters
   * on one line, so two answers side by side show their differences, not their braces. */
  function compactJson(value, indent, width) {
    indent = indent || '';
    width = width || 72;
    const flat = JSON.stringify(value);
    if (flat === undefined || flat.length + indent.length <= width || value === null || typeof value !== 'object') {
      return flat;
    }
    const inner = indent + '  ';
    const parts = Array.isArray(value)
      ? value.map(function (item) {
          return inner + compactJson(item, inner, width);
        })
      : Object.keys(value).map(function (key) {
          return inner + JSON.stringify(key) + ': ' + compactJson(value[key], inner, width);
        });
    const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
    return open + '\n' + parts.join(',\n') + '\n' + indent + close;
  }

  function Answer(props) {
    let text = 'Not run yet.';
    if (props.pending) {
      text = 'Running…';
    } else if (props.result && props.result.error) {
      text = props.result.error;
    } else if (props.result) {
      text = compactJson(props.result.body);
    }
    return h('pre', { className: 'explorer-answer', 'data-testid': props.testId }, text);
  }

  function Compare(props) {
    const identities = props.identities;
    const byRole = function (role, fallback) {
      const found = identities.find(function (i) {
        return i.role === role;
      });
      return (found || identities[fallback] || identities[0]).key;
    };
    const [left, setLeft] = useState(byRole('client', 0));
    const [right, setRight] = useState(byRole('employee', identities.length - 1));
    const [results, setResults] = useState([null, null]);
    const [pending, setPending] = useState(false);

    function headersOf(key) {
      if (key === CUSTOM) {
        return parseHeaders(props.headers) || {};
      }
      const identity = identities.find(function (i) {
        return i.key === key;
      });
      return identity && identity.authorization ? { Authorization: identity.authorization } : {};
    }

    async function runBoth() {
      setPending(true);
      const answers = await Promise.all([
        runAs(headersOf(left), editorQuery(props.query), props.variables),
        runAs(headersOf(right), editorQuery(props.query), props.variables),
      ]);
      setResults(answers);
      setPending(false);
    }

    function side(value, setValue, result, index) {
      return h(
        'section',
        { className: 'explorer-side' },
        h(
          'label',
          { className: 'explorer-field' },
          index === 0 ? 'As ' : 'and as ',
          h(IdentitySelect, {
            identities: identities,
            value: value,
            withCustom: true,
            ariaLabel: index === 0 ? 'Left role' : 'Right role',
            testId: index === 0 ? 'compare-left' : 'compare-right',
            onChange: setValue,
          })
        ),
        h(Answer, { result: result, pending: pending, testId: 'answer-' + index })
      );
    }

    return h(
      'section',
      { className: 'explorer-compare', 'aria-label': 'Side-by-side preview' },
      h(
        'div',
        { className: 'explorer-compare-bar' },
        h('span', null, 'The query in the editor, run as two people:'),
        h(
          'button',
          {
            type: 'button',
            className: 'explorer-button',
            'data-testid': 'compare-run',
            onClick: runBoth,
          },
          'Run side by side'
        )
      ),
      h(
        'div',
        { className: 'explorer-sides' },
        side(left, setLeft, results[0], 0),
        side(right, setRight, results[1], 1)
      )
    );
  }

  function Explorer(props) {
    const config = props.config;
    const identities = config.identities;
    const first = identities.find(function (i) {
      return i.role === 'client';
    }) || identities[0];
    const [selected, setSelected] = useState(first.key);
    const [headers, setHeaders] = useState(headerText(first));
    const [schemaState, setSchemaState] = useState('loading the schema…');
    const onNoSchema = useStable(function (why) {
      setSchemaState('no schema for this caller: ' + why);
    });
    const [fetcher, setFetcher] = useState(function () {
      return makeFetcher(headerText(first), onNoSchema);
    });
    const [query, setQuery] = useState(DEFAULT_QUERY);
    const [variables, setVariables] = useState('');
    const [comparing, setComparing] = useState(false);
    // The header text the current fetcher (and so the current schema) was made for.
    const applied = useRef(headerText(first));
    const typing = useRef(null);

    function refetchSchema(text) {
      applied.current = text;
      setSchemaState('loading the schema…');
      setFetcher(function () {
        return makeFetcher(text, onNoSchema);
      });
    }

    // Every change of the header editor lands here, whether the picker or a person made it.
    const onEditHeaders = useStable(function (text) {
      setHeaders(text);
      const match = identities.find(function (i) {
        return headerText(i) === text;
      });
      setSelected(match ? match.key : CUSTOM);
      window.clearTimeout(typing.current);
      if (text === applied.current) {
        return;
      }
      if (match) {
        refetchSchema(text);
      } else {
        typing.current = window.setTimeout(function () {
          refetchSchema(text);
        }, TYPING_PAUSE_MS);
      }
    });

    function onPick(key) {
      const identity = identities.find(function (i) {
        return i.key === key;
      });
      if (identity) {
        // The editor follows this prop; its change event then re-fetches the schema.
        setHeaders(headerText(identity));
      }
    }

    const onSchemaChange = useStable(function (schema) {
      const name = selected === CUSTOM ? 'your headers' : label(identities.find(function (i) {
        return i.key === selected;
      }) || first);
      const types = Object.keys(schema.getTypeMap()).filter(function (t) {
        return t.indexOf('__') !== 0;
      }).length;
      setSchemaState('schema of ' + name + ': ' + types + ' types');
    });

    useEffect(function () {
      return function () {
        window.clearTimeout(typing.current);
      };
    }, []);

    return h(
      'div',
      { className: 'explorer' },
      h(Bar, {
        config: config,
        identities: identities,
        selected: selected,
        schemaState: schemaState,
        comparing: comparing,
        onPick: onPick,
        onToggleCompare: function () {
          setComparing(!comparing);
        },
      }),
      h(
        'main',
        { className: comparing ? 'explorer-main explorer-main-split' : 'explorer-main' },
        h(
          'div',
          { className: 'explorer-graphiql' },
          h(GraphiQL, {
            fetcher: fetcher,
            headers: headers,
            defaultQuery: DEFAULT_QUERY,
            onEditQuery: setQuery,
            onEditVariables: setVariables,
            onEditHeaders: onEditHeaders,
            onSchemaChange: onSchemaChange,
            defaultEditorToolsVisibility: 'headers',
            isHeadersEditorEnabled: true,
            shouldPersistHeaders: false,
          })
        ),
        comparing
          ? h(Compare, {
              identities: identities,
              headers: headers,
              query: query,
              variables: variables,
            })
          : null
      )
    );
  }

  async function start() {
    const root = ReactDOM.createRoot(document.getElementById('explorer'));
    let config;
    try {
      const response = await fetch('/graphiql/identities', { headers: { Accept: 'application/json' } });
      config = await response.json();
    } catch (_) {
      config = { title: 'CRM gateway', identities: [{ key: 'anonymous', name: 'anonymous', role: null, about: 'No token.' }] };
    }
    root.render(h(Explorer, { config: config }));
  }

  start();
})();
