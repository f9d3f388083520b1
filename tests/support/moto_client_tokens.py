"""Client-token idempotency for the moto emulator, which (as of moto 5.2.5) ignores the tokens.

Imported by the integration tests' moto launcher (tests/suite/common.rs, `Moto::start`) before
moto's server starts. AWS answers a create that repeats a client token it has already seen with
the object the first call made, instead of making another: that is what makes a create safe to
retry when its response was lost (the fault proxy's dropped responses, tests/suite/faults.rs).
moto makes a second object (CreateRouteTable) or fails (CreateNatGateway: the address is
already associated; CreateCluster, CreateNodegroup: ResourceInUseException).

Each operation below remembers its answer by token and gives it again for a repeated token.
"""

from moto.ec2.responses.nat_gateways import NatGateways
from moto.ec2.responses.route_tables import RouteTables
from moto.eks.responses import EKSResponse

_ANSWERS = {}


def _idempotent(cls, operation, token_param):
    original = getattr(cls, operation)

    def handler(self):
        token = self._get_param(token_param)
        if not token:
            return original(self)
        key = (cls.__name__, operation, token)
        if key not in _ANSWERS:
            _ANSWERS[key] = original(self)
        return _ANSWERS[key]

    setattr(cls, operation, handler)


_idempotent(RouteTables, "create_route_table", "ClientToken")
_idempotent(NatGateways, "create_nat_gateway", "ClientToken")
_idempotent(EKSResponse, "create_cluster", "clientRequestToken")
_idempotent(EKSResponse, "create_nodegroup", "clientRequestToken")
