// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// An ERC-20 that names itself (symbol, decimals): Patrol's validator reads both from it.
contract NamedToken {
    string public symbol;
    uint8 public decimals;
    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(string memory symbol_, uint8 decimals_, uint256 supply) {
        symbol = symbol_;
        decimals = decimals_;
        balanceOf[msg.sender] = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        emit Transfer(msg.sender, to, amount);
        return true;
    }
}

/// Moves ETH by internal calls and creates contracts from inside a transaction (callTracer frames).
contract Splitter {
    /// Half of the value to `a`, the rest to `b`: two internal CALLs with value (paths "0" and "1").
    function split(address payable a, address payable b) external payable {
        uint256 half = msg.value / 2;
        (bool okA, ) = a.call{value: half}("");
        (bool okB, ) = b.call{value: msg.value - half}("");
        require(okA && okB, "send failed");
    }

    /// An internal CREATE carrying the value to the child.
    function spawn() external payable returns (address) {
        return address(new Child{value: msg.value}());
    }

    /// Sends, then reverts: nothing of it moved.
    function failing(address payable a) external payable {
        (bool ok, ) = a.call{value: msg.value}("");
        require(ok && false, "always reverts");
    }
}

contract Child {
    constructor() payable {}
}
