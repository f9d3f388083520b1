"""EKS update operations for the moto emulator, which (as of moto 5.2.5) lacks them.

Imported by the integration tests' moto launcher (tests/suite/common.rs, `Moto::start`) before
moto's server starts. It adds, the way moto implements an operation (a backend method, a
response method named after the operation, and the REST paths in the service's URL map):

- UpdateClusterVersion      POST /clusters/{name}/updates
- UpdateNodegroupVersion    POST /clusters/{name}/node-groups/{nodegroupName}/update-version
- DescribeUpdate            GET  /clusters/{name}/updates/{updateId}[?nodegroupName=...]
- AssociateEncryptionConfig POST /clusters/{name}/encryption-config/associate

An update is `InProgress` on the first DescribeUpdate and `Successful` on the next ones; the
change (the new version, the encryption configuration) lands on the cluster or node group when
the update turns `Successful`, and the object's status is `UPDATING` until then. As AWS does, a
cluster moves one Kubernetes minor version at a time (anything else is an
InvalidParameterException), one update runs at a time (ResourceInUseException), and a node
group cannot run a newer version than its cluster.

UpdateClusterConfig answers with an update (moto answers with the cluster and applies the
change at once) that follows the same InProgress-then-Successful course, merges a partial
`resourcesVpcConfig` into the cluster's (moto replaced it whole, losing the endpoint flags and
security groups when only the subnets changed) and also takes `accessConfig`, `upgradePolicy`
and `zonalShiftConfig`.

CreateCluster keeps `accessConfig`, `upgradePolicy` and `zonalShiftConfig` and reports AWS's
defaults (`CONFIG_MAP`, `EXTENDED`) when they are not given; CreateNodegroup keeps
`updateConfig` and `nodeRepairConfig` (moto's handlers drop all of these, so they would never
read back) and gives a node group created without a version its cluster's version (moto gives
1.19), as AWS does.

TagResource and UntagResource take node group ARNs too (moto's handle clusters only), as AWS
does: the AWS provider removes its `strata:intent` tag from a node group once it is recorded.
"""

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import models, responses, urls
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.moto_api._internal import mock_random as random

UPDATING_STATUS = "UPDATING"


def _minor(version):
    """(major, minor) of "1.30", or None when it is not of that form."""
    parts = str(version).split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _updates(backend):
    # Stored on the backend so `POST /moto-api/reset` (which makes new backends) clears them.
    if not hasattr(backend, "eks_updates"):
        backend.eks_updates = {}
    return backend.eks_updates


def _cluster(backend, name):
    cluster = backend.clusters.get(name)
    if cluster is None:
        raise ResourceNotFoundException(
            clusterName=name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=models.CLUSTER_NOT_FOUND_MSG.format(clusterName=name),
        )
    return cluster


def _nodegroup(backend, cluster_name, nodegroup_name):
    cluster = _cluster(backend, cluster_name)
    nodegroup = cluster.nodegroups.get(nodegroup_name)
    if nodegroup is None:
        raise ResourceNotFoundException(
            clusterName=cluster_name,
            nodegroupName=nodegroup_name,
            fargateProfileName=None,
            addonName=None,
            message=models.NODEGROUP_NOT_FOUND_MSG.format(nodegroupName=nodegroup_name),
        )
    return cluster, nodegroup


def _refuse_if_updating(backend, cluster_name, nodegroup_name):
    for record in _updates(backend).values():
        if (
            record["cluster"] == cluster_name
            and record["nodegroup"] == nodegroup_name
            and record["update"]["status"] == "InProgress"
        ):
            raise ResourceInUseException(
                clusterName=cluster_name,
                nodegroupName=nodegroup_name,
                addonName=None,
                message=f"Update already in progress: {record['update']['id']}",
            )


def _start_update(backend, cluster_name, nodegroup_name, update_type, params, apply):
    update = {
        "id": str(random.uuid4()),
        "status": "InProgress",
        "type": update_type,
        "params": params,
        "createdAt": utcnow(),
        "errors": [],
    }
    _updates(backend)[update["id"]] = {
        "cluster": cluster_name,
        "nodegroup": nodegroup_name,
        "update": update,
        "described": 0,
        "apply": apply,
    }
    return update


def update_cluster_version(self, name, version, client_request_token=None):
    cluster = _cluster(self, name)
    current, wanted = _minor(cluster.version), _minor(version)
    if (
        current is None
        or wanted is None
        or wanted[0] != current[0]
        or wanted[1] != current[1] + 1
    ):
        raise InvalidParameterException(
            clusterName=name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=f"Unsupported Kubernetes minor version update from {cluster.version} to {version}",
        )
    _refuse_if_updating(self, name, None)
    cluster.status = UPDATING_STATUS

    def apply():
        cluster.version = version
        cluster.status = models.ACTIVE_STATUS

    return _start_update(
        self,
        name,
        None,
        "VersionUpdate",
        [
            {"type": "Version", "value": version},
            {"type": "PlatformVersion", "value": cluster.platformVersion},
        ],
        apply,
    )


def update_nodegroup_version(
    self,
    cluster_name,
    nodegroup_name,
    version=None,
    release_version=None,
    launch_template=None,
    force=False,
    client_request_token=None,
):
    cluster, nodegroup = _nodegroup(self, cluster_name, nodegroup_name)
    target = version or cluster.version
    wanted, limit = _minor(target), _minor(cluster.version)
    if wanted is None or limit is None or wanted > limit:
        raise InvalidParameterException(
            clusterName=cluster_name,
            nodegroupName=nodegroup_name,
            fargateProfileName=None,
            addonName=None,
            message=f"Requested Kubernetes version {target} is newer than the cluster's version {cluster.version}",
        )
    _refuse_if_updating(self, cluster_name, nodegroup_name)
    nodegroup.status = UPDATING_STATUS
    release = release_version or f"{target}.0-20250101"

    def apply():
        nodegroup.version = target
        nodegroup.release_version = release
        if launch_template:
            nodegroup.launch_template = launch_template
        nodegroup.status = models.ACTIVE_STATUS
        nodegroup.modified_at = utcnow()

    return _start_update(
        self,
        cluster_name,
        nodegroup_name,
        "VersionUpdate",
        [
            {"type": "Version", "value": target},
            {"type": "ReleaseVersion", "value": release},
        ],
        apply,
    )


def associate_encryption_config(self, cluster_name, encryption_config, client_request_token=None):
    cluster = _cluster(self, cluster_name)
    if cluster.encryption_config:
        raise InvalidRequestException(
            message="Encryption is already enabled on the cluster",
        )
    _refuse_if_updating(self, cluster_name, None)
    cluster.status = UPDATING_STATUS

    def apply():
        cluster.encryption_config = encryption_config
        cluster.status = models.ACTIVE_STATUS

    return _start_update(
        self,
        cluster_name,
        None,
        "AssociateEncryptionConfig",
        [{"type": "EncryptionConfig", "value": str(encryption_config)}],
        apply,
    )


def describe_update(self, name, update_id, nodegroup_name=None):
    _cluster(self, name)
    record = _updates(self).get(update_id)
    if record is None or record["cluster"] != name or record["nodegroup"] != nodegroup_name:
        raise ResourceNotFoundException(
            clusterName=name,
            nodegroupName=nodegroup_name,
            fargateProfileName=None,
            addonName=None,
            message=f"No update found for ID: {update_id}",
        )
    record["described"] += 1
    if record["described"] > 1 and record["update"]["status"] == "InProgress":
        record["apply"]()
        record["update"]["status"] = "Successful"
    return record["update"]


original_create_nodegroup = models.EKSBackend.create_nodegroup


def create_nodegroup(self, *args, **kwargs):
    cluster = self.clusters.get(kwargs.get("cluster_name"))
    if kwargs.get("version") is None and cluster is not None:
        kwargs["version"] = cluster.version
    return original_create_nodegroup(self, *args, **kwargs)


models.EKSBackend.update_cluster_version = update_cluster_version
models.EKSBackend.update_nodegroup_version = update_nodegroup_version
models.EKSBackend.associate_encryption_config = associate_encryption_config
models.EKSBackend.describe_update = describe_update
models.EKSBackend.create_nodegroup = create_nodegroup


def _tagged(backend, arn, operation):
    for cluster in backend.clusters.values():
        if cluster.arn == arn:
            return cluster
        for group in cluster.nodegroups.values():
            if group.arn == arn:
                return group
    raise ResourceNotFoundException(
        clusterName=None,
        nodegroupName=None,
        fargateProfileName=None,
        addonName=None,
        message=f"An error occurred (NotFoundException) when calling the {operation} operation: Resource was not found",
    )


def tag_resource(self, resource_arn, tags):
    _tagged(self, resource_arn, "TagResource").tags.update(tags)


def untag_resource(self, resource_arn, tag_keys):
    tagged = _tagged(self, resource_arn, "UntagResource")
    for name in tag_keys if isinstance(tag_keys, list) else [tag_keys]:
        tagged.tags.pop(name, None)


models.EKSBackend.tag_resource = tag_resource
models.EKSBackend.untag_resource = untag_resource


def response_update_cluster_version(self):
    update = self.eks_backend.update_cluster_version(
        name=self._get_param("name"),
        version=self._get_param("version"),
        client_request_token=self._get_param("clientRequestToken"),
    )
    return ActionResult({"update": update})


def response_update_nodegroup_version(self):
    update = self.eks_backend.update_nodegroup_version(
        cluster_name=self._get_param("name"),
        nodegroup_name=self._get_param("nodegroupName"),
        version=self._get_param("version"),
        release_version=self._get_param("releaseVersion"),
        launch_template=self._get_param("launchTemplate"),
        force=self._get_param("force"),
        client_request_token=self._get_param("clientRequestToken"),
    )
    return ActionResult({"update": update})


def response_associate_encryption_config(self):
    update = self.eks_backend.associate_encryption_config(
        cluster_name=self._get_param("name"),
        encryption_config=self._get_param("encryptionConfig"),
        client_request_token=self._get_param("clientRequestToken"),
    )
    return ActionResult({"update": update})


def response_describe_update(self):
    update = self.eks_backend.describe_update(
        name=self._get_param("name"),
        update_id=self._get_param("updateId"),
        nodegroup_name=self._get_param("nodegroupName"),
    )
    return ActionResult({"update": update})


original_response_create_nodegroup = responses.EKSResponse.create_nodegroup


def response_create_nodegroup(self):
    result = original_response_create_nodegroup(self)
    # moto's handler does not pass these two on to the backend: set them on the new node group.
    nodegroup = result.result["nodegroup"]
    nodegroup.update_config = self._get_param("updateConfig")
    nodegroup.node_repair_config = self._get_param("nodeRepairConfig")
    return result


original_response_create_cluster = responses.EKSResponse.create_cluster


def response_create_cluster(self):
    result = original_response_create_cluster(self)
    cluster = result.result["cluster"]
    access = self._get_param("accessConfig") or {}
    cluster.access_config = {
        "authenticationMode": access.get("authenticationMode") or "CONFIG_MAP"
    }
    cluster.upgrade_policy = self._get_param("upgradePolicy") or {"supportType": "EXTENDED"}
    cluster.zonal_shift_config = self._get_param("zonalShiftConfig")
    return result


def response_update_cluster_config(self):
    backend = self.eks_backend
    name = self._get_param("name")
    cluster = _cluster(backend, name)
    changes = {
        "VpcConfigUpdate": self._get_param("resourcesVpcConfig"),
        "LoggingUpdate": self._get_param("logging"),
        "AccessConfigUpdate": self._get_param("accessConfig"),
        "UpgradePolicyUpdate": self._get_param("upgradePolicy"),
        "ZonalShiftConfigUpdate": self._get_param("zonalShiftConfig"),
        "KubernetesNetworkConfigUpdate": self._get_param("kubernetesNetworkConfig"),
    }
    given = [(kind, value) for kind, value in changes.items() if value]
    if len(given) != 1:
        raise InvalidParameterException(
            clusterName=name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message="Only one type of update can be allowed.",
        )
    kind, value = given[0]
    _refuse_if_updating(backend, name, None)
    cluster.status = UPDATING_STATUS

    def apply():
        if kind == "VpcConfigUpdate":
            merged = dict(cluster.resources_vpc_config or {})
            merged.update(value)
            cluster.resources_vpc_config = merged
        elif kind == "LoggingUpdate":
            cluster.logging = value
        elif kind == "AccessConfigUpdate":
            current = dict(getattr(cluster, "access_config", None) or {})
            current.update(value)
            cluster.access_config = current
        elif kind == "UpgradePolicyUpdate":
            cluster.upgrade_policy = value
        elif kind == "ZonalShiftConfigUpdate":
            cluster.zonal_shift_config = value
        else:
            cluster.kubernetes_network_config = value
        cluster.status = models.ACTIVE_STATUS

    update = _start_update(
        backend, name, None, kind, [{"type": kind, "value": str(value)}], apply
    )
    return ActionResult({"update": update})


responses.EKSResponse.create_cluster = response_create_cluster
responses.EKSResponse.update_cluster_config = response_update_cluster_config
responses.EKSResponse.update_cluster_version = response_update_cluster_version
responses.EKSResponse.update_nodegroup_version = response_update_nodegroup_version
responses.EKSResponse.associate_encryption_config = response_associate_encryption_config
responses.EKSResponse.describe_update = response_describe_update
responses.EKSResponse.create_nodegroup = response_create_nodegroup

urls.url_paths.update(
    {
        "{0}/clusters/(?P<name>[^/]+)/updates$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/encryption-config/associate$": urls.response.dispatch,
    }
)
