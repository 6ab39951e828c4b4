// Operations for relay-compiler (never executed: pagination.mjs loads the generated artifacts).
// A customer's timeline as Relay pages it: a refetchable fragment with @connection on the
// nested field, which usePaginationFragment's loadNext fetches page by page.
/* global graphql */

graphql`
  fragment pagination_query on Query
  @refetchable(queryName: "paginationRefetchQuery")
  @argumentDefinitions(
    customerId: { type: "ID!" }
    count: { type: "Int", defaultValue: 4 }
    cursor: { type: "String" }
  ) {
    customer(id: $customerId) {
      name
      timeline(first: $count, after: $cursor) @connection(key: "pagination_timeline") {
        edges {
          node {
            kind
            at
            interaction { id subject }
            purchase { id total }
          }
        }
      }
    }
  }
`;

graphql`
  query paginationQuery($customerId: ID!) {
    ...pagination_query @arguments(customerId: $customerId)
  }
`;
