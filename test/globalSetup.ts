// Filled in once the Neo4j launcher lands: starts Redis and a test Neo4j for the whole run.
export default async function setup() {}
