// Operations for relay-compiler (never executed: node.mjs loads the generated artifacts).
// A refetchable fragment on Customer, not on Query: Relay refetches it, and each page of its
// nested connection, through Query.node with the customer's global id (the Node interface).
/* global graphql */

graphql`
  fragment customerInteractions_customer on Customer
  @refetchable(queryName: "customerInteractionsPageQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 2 }
    cursor: { type: "String" }
  ) {
    name
    interactions(first: $count, after: $cursor) @connection(key: "customerInteractions_interactions") {
      edges {
        cursor
        node { id subject }
      }
    }
  }
`;

graphql`
  query customerInteractionsQuery($id: ID!) {
    customer(id: $id) { ...customerInteractions_customer }
  }
`;
