import { hello } from '@tessera/config'; console.log(hello());
