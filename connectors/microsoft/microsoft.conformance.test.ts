import { runConnectorSuite } from '../../test/conformance/connector.js';
import { startMicrosoftFixture } from '../../test/helpers/microsoft-fixture.js';

runConnectorSuite('microsoft', async () => startMicrosoftFixture({ users: 1 }));
