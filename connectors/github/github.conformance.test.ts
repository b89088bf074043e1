import { runConnectorSuite } from '../../test/conformance/connector.js';
import { makeGithubFixture } from '../../test/conformance/fixtures/github.js';

runConnectorSuite('github', makeGithubFixture);
